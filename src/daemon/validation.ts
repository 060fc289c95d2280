import type { FastifyRequest } from 'fastify';
import { invalid, shown, type RuneError } from '../core/errors.js';
import { suggest } from '../core/names.js';
import { TEXT_PATTERN } from '../core/schemas.js';
import { MAX_LIMIT } from './paging.js';

/** One error as fastify's validator (ajv) reports it. */
export interface SchemaError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** What a route may add to its config: fields it knows but will not change (named as immutable). */
export interface RouteConfig {
  immutable?: readonly string[];
}

// The same words for the same mistake on every route; a field may need its own.
const FIELD_TYPES: Record<string, string> = {
  ttl: 'must be a duration string such as "720h", "90d" or "1h30m"',
  limit: `must be a whole number from 1 to ${MAX_LIMIT}`,
};
const TYPE_WORDS: Record<string, string> = {
  string: 'must be a string',
  array: 'must be a list',
  boolean: 'must be true or false',
  object: 'must be an object',
  integer: 'must be a whole number',
  number: 'must be a number',
};

/** `/policies/0` → `policies[0]`. */
const fieldOf = (path: string) =>
  path
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '');

/** Turns the validator's first error into the 400 a person can act on, naming the field. */
export function schemaError(req: FastifyRequest, context: string | undefined, errors: SchemaError[], known: (path: string) => string[]): RuneError {
  // anyOf (a value or null) reports each branch: the first branch says what was expected.
  const e = errors.find((x) => x.keyword !== 'anyOf') ?? errors[0]!;
  const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : 'field';
  const field = fieldOf(e.instancePath);
  const top = field.split(/[.[]/)[0] ?? field;

  if (field === '' && context === 'body' && (e.keyword === 'type' || e.keyword === 'required' && req.body === undefined)) {
    return req.body === undefined || req.body === null
      ? invalid('request body is required: send a JSON object')
      : invalid('request body must be a JSON object');
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const name = String(e.params.additionalProperty);
      const inner = field ? `${field}.${name}` : name;
      const immutable = (req.routeOptions.config as RouteConfig | undefined)?.immutable ?? [];
      const allowed = known(e.instancePath);
      if (!field && immutable.includes(name)) {
        return invalid(`field "${name}" is immutable: only ${allowed.join(', ')} can change`, { field: name });
      }
      const hint = suggest(name, allowed);
      return invalid(`unknown ${where} "${shown(inner)}"${hint ? ` (did you mean "${hint}"?)` : ''}`, { field: shown(inner) });
    }
    case 'required': {
      const name = String(e.params.missingProperty);
      const inner = field ? `${field}.${name}` : name;
      return invalid(`${inner} is required`, { field: inner });
    }
    case 'type': {
      // An item of a list: say what the list holds ("policies must be a list of strings").
      if (field !== top && /^[^.]+\[\d+\]$/.test(field)) return invalid(`${top} must be a list of ${String(e.params.type)}s`, { field: top });
      return invalid(`${field} ${FIELD_TYPES[top] ?? TYPE_WORDS[String(e.params.type)] ?? `must be ${String(e.params.type)}`}`, { field: top });
    }
    case 'const':
    case 'enum': {
      const allowed = errors.filter((x) => x.instancePath === e.instancePath && x.keyword === 'const').map((x) => String(x.params.allowedValue)).filter(Boolean);
      const values = allowed.length > 0 ? allowed : ((e.params.allowedValues as unknown[]) ?? []).map(String);
      return invalid(`${field} must be one of ${values.join(', ')}`, { field: top });
    }
    case 'maxLength':
      return invalid(`${field} must be at most ${String(e.params.limit)} characters`, { field: top });
    case 'pattern':
      if (e.params.pattern === TEXT_PATTERN) return invalid(`${field} must not contain control characters`, { field: top });
      return invalid(`${field} ${FIELD_TYPES[top] ?? `must match ${String(e.params.pattern)}`}`, { field: top });
    default:
      return invalid(`${field || 'request'} ${e.message ?? 'is not valid'}`, { field: top });
  }
}
