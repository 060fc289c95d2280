import { invalid, RuneError, shown } from '../core/errors.js';
import { suggest } from '../core/names.js';

/** A request body sent as YAML, kept as text so errors can point at line:column. */
export class YamlText {
  constructor(readonly text: string) {}
}

export type Fields = Record<string, unknown>;

/** The body as a JSON object, or a 400/415 that says what was sent instead. */
export function objectBody(body: unknown): Fields {
  if (body instanceof YamlText) {
    throw new RuneError('unsupported_media_type', 'this route takes a JSON body (Content-Type: application/json)');
  }
  if (body === undefined || body === null) throw invalid('request body is required: send a JSON object');
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('request body must be a JSON object');
  return body as Fields;
}

/** Refuses fields the route does not know, and names the immutable ones it does know. */
export function checkFields(body: Fields, allowed: readonly string[], immutable: readonly string[] = []): void {
  for (const key of Object.keys(body)) {
    if (allowed.includes(key)) continue;
    if (immutable.includes(key)) {
      throw invalid(`field "${key}" is immutable: only ${allowed.join(', ')} can change`, { field: key });
    }
    const hint = suggest(key, allowed);
    throw invalid(`unknown field "${shown(key)}"${hint ? ` (did you mean "${hint}"?)` : ''}`, { field: shown(key) });
  }
}

export function optionalString(body: Fields, field: string, maxLength = 1024): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string`, { field });
  if (value.length > maxLength) throw invalid(`${field} must be at most ${maxLength} characters`, { field });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(value)) throw invalid(`${field} must not contain control characters`, { field });
  return value;
}

export function optionalBoolean(body: Fields, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${field} must be true or false`, { field });
  return value;
}
