import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { dnsLabelProblem, suggest } from './names.js';
import { shown, UNSTORABLE } from './errors.js';

export interface Rule {
  resource: string;
  verbs: string[];
  /** A namespace name or `*`; omitted means every namespace. */
  namespace?: string;
}

export interface PolicyDocument {
  name: string;
  description: string;
  rules: Rule[];
}

export const VERBS = ['get', 'list', 'watch', 'create', 'update', 'delete', 'scale', 'exec', 'bind', 'escalate'] as const;
export const WORKLOAD_RESOURCES = ['services', 'instances', 'logs', 'exec', 'configmaps', 'secrets', 'namespaces', 'health'] as const;
export const ADMIN_RESOURCES = ['users', 'serviceaccounts', 'policies', 'tokens', 'registries', 'audit'] as const;

const VERB_SET: ReadonlySet<string> = new Set(VERBS);
const ADMIN_SET: ReadonlySet<string> = new Set(ADMIN_RESOURCES);
const RESOURCE_SET: ReadonlySet<string> = new Set([...WORKLOAD_RESOURCES, ...ADMIN_RESOURCES]);

export const isAdminResource = (resource: string) => ADMIN_SET.has(resource);
export const isKnownResource = (resource: string) => RESOURCE_SET.has(resource);
export const isKnownVerb = (verb: string) => VERB_SET.has(verb);

/** Fields a policy document may carry; read-only ones are accepted so `get -o yaml | apply` round-trips. */
const POLICY_FIELDS = ['name', 'description', 'rules'];
const READ_ONLY_POLICY_FIELDS = ['builtin', 'createdAt', 'updatedAt'];
const RULE_FIELDS = ['resource', 'verbs', 'namespace'];

export interface LintIssue {
  line?: number;
  column?: number;
  /** Where in the document, e.g. `rules[1].verbs[0]`. */
  path: string;
  message: string;
}

export interface LintResult {
  valid: boolean;
  errors: LintIssue[];
  warnings: LintIssue[];
  /** How many issues a long answer left out. */
  truncated?: { errors: number; warnings: number };
  /** The normalised policy, when valid. */
  policy?: PolicyDocument;
}

type PathPart = string | number;
type Locate = (path: PathPart[]) => { line: number; column: number } | undefined;

const pathText = (path: PathPart[]) =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(document)';

export function ruleKey(rule: Rule): string {
  return `${rule.resource}|${rule.namespace ?? '*'}|${[...rule.verbs].sort().join(',')}`;
}

// A YAML "\0" or "\ud800" escape reaches here (JSON bodies are refused earlier, by the parser).
const UNSTORABLE_TEXT = 'holds a NUL character or a lone surrogate, which cannot be stored';

/** Checks a decoded policy object; `locate` maps a path to a line:column when the source is text. */
export function validatePolicy(value: unknown, locate: Locate = () => undefined): LintResult {
  const errors: LintIssue[] = [];
  const warnings: LintIssue[] = [];
  const issue = (list: LintIssue[], path: PathPart[], message: string) => {
    const at = locate(path);
    list.push({ ...(at ?? {}), path: pathText(path), message });
  };
  const error = (path: PathPart[], message: string) => issue(errors, path, message);
  const warn = (path: PathPart[], message: string) => issue(warnings, path, message);

  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    error([], 'a policy must be a mapping with name, description and rules');
    return { valid: false, errors, warnings };
  }
  const doc = value as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (POLICY_FIELDS.includes(key) || READ_ONLY_POLICY_FIELDS.includes(key)) continue;
    const hint = suggest(key, POLICY_FIELDS);
    error([key], `unknown field "${shown(key)}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }

  let name = '';
  if (doc.name === undefined) error([], 'name is required');
  else if (typeof doc.name !== 'string') error(['name'], 'name must be a string');
  else {
    const problem = dnsLabelProblem(doc.name);
    if (problem) error(['name'], `name "${shown(doc.name)}" ${problem}`);
    name = doc.name;
  }

  let description = '';
  if (doc.description !== undefined && doc.description !== null) {
    if (typeof doc.description !== 'string') error(['description'], 'description must be a string');
    else if (UNSTORABLE.test(doc.description)) error(['description'], UNSTORABLE_TEXT);
    else description = doc.description;
  }

  const rules: Rule[] = [];
  if (doc.rules === undefined || doc.rules === null) error([], 'rules is required (a list of {resource, verbs, namespace})');
  else if (!Array.isArray(doc.rules)) error(['rules'], 'rules must be a list');
  else {
    if (doc.rules.length === 0) warn(['rules'], 'the policy has no rules, so it grants nothing');
    const seen = new Map<string, number>();
    doc.rules.forEach((raw, i) => {
      const rule = checkRule(raw, ['rules', i], error, warn);
      if (!rule) return;
      const key = ruleKey(rule);
      const first = seen.get(key);
      if (first !== undefined) warn(['rules', i], `duplicate of rules[${first}]`);
      else seen.set(key, i);
      rules.push(rule);
    });
  }

  const valid = errors.length === 0;
  return valid ? { valid, errors, warnings, policy: { name, description, rules } } : { valid, errors, warnings };
}

function checkRule(
  raw: unknown,
  at: PathPart[],
  error: (path: PathPart[], message: string) => void,
  warn: (path: PathPart[], message: string) => void,
): Rule | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    error(at, 'a rule must be a mapping with resource, verbs and namespace');
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  let ok = true;
  for (const key of Object.keys(r)) {
    if (RULE_FIELDS.includes(key)) continue;
    const hint = suggest(key, RULE_FIELDS);
    error([...at, key], `unknown field "${shown(key)}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    ok = false;
  }

  let resource = '';
  if (typeof r.resource !== 'string' || r.resource === '') {
    error(r.resource === undefined ? at : [...at, 'resource'], 'resource is required and must be a resource name or "*"');
    ok = false;
  } else if (UNSTORABLE.test(r.resource)) {
    error([...at, 'resource'], `resource ${UNSTORABLE_TEXT}`);
    ok = false;
  } else {
    resource = r.resource;
    if (resource !== '*' && !isKnownResource(resource)) {
      const hint = suggest(resource, RESOURCE_SET) ?? (RESOURCE_SET.has(`${resource}s`) ? `${resource}s` : undefined);
      warn([...at, 'resource'], `unknown resource "${shown(resource)}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
    }
  }

  const verbs: string[] = [];
  if (!Array.isArray(r.verbs)) {
    error(r.verbs === undefined ? at : [...at, 'verbs'], 'verbs is required and must be a list, e.g. [get, list] or ["*"]');
    ok = false;
  } else if (r.verbs.length === 0) {
    error([...at, 'verbs'], 'verbs must not be empty');
    ok = false;
  } else if (r.verbs.length > MAX_VERBS_PER_RULE) {
    error([...at, 'verbs'], `a rule lists at most ${MAX_VERBS_PER_RULE} verbs, not ${r.verbs.length}`);
    ok = false;
  } else {
    const listed = new Set<string>();
    r.verbs.forEach((verb, j) => {
      if (typeof verb !== 'string' || verb === '') {
        error([...at, 'verbs', j], 'a verb must be a non-empty string');
        ok = false;
        return;
      }
      if (UNSTORABLE.test(verb)) {
        error([...at, 'verbs', j], `a verb ${UNSTORABLE_TEXT}`);
        ok = false;
        return;
      }
      if (verb !== '*' && !isKnownVerb(verb)) {
        const hint = suggest(verb, VERBS);
        warn([...at, 'verbs', j], `unknown verb "${shown(verb)}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
      }
      if (listed.has(verb)) warn([...at, 'verbs', j], `verb "${shown(verb)}" is listed twice`);
      else (listed.add(verb), verbs.push(verb));
    });
    if (listed.has('*') && verbs.length > 1) warn([...at, 'verbs'], '"*" already covers every verb');
  }

  let namespace: string | undefined;
  if (r.namespace === undefined || r.namespace === null) {
    warn(at, 'rule without namespace applies to all namespaces (write namespace: "*" to say so)');
  } else if (typeof r.namespace !== 'string') {
    error([...at, 'namespace'], 'namespace must be a namespace name or "*"');
    ok = false;
  } else if (r.namespace !== '*') {
    const problem = dnsLabelProblem(r.namespace);
    if (problem) {
      error([...at, 'namespace'], `namespace "${r.namespace}" ${problem}`);
      ok = false;
    } else if (isAdminResource(resource)) {
      warn([...at, 'namespace'], `${resource} is cluster-scoped: a rule pinned to namespace "${r.namespace}" never matches it`);
    }
    namespace = r.namespace;
  } else {
    namespace = '*';
  }

  if (!ok) return undefined;
  return namespace === undefined ? { resource, verbs } : { resource, verbs, namespace };
}

export type PolicyFormat = 'yaml' | 'json';

/** Far more than the verbs there are: a longer list is a mistake or an attack on the linter. */
export const MAX_VERBS_PER_RULE = 64;

/** How large a policy document may be; a policy is small, so these stop hostile documents early. */
export interface PolicyLimits {
  bytes: number;
  rules: number;
  /** Errors and warnings returned at most (each list); the rest are counted in `truncated`. */
  issues: number;
}

export const DEFAULT_POLICY_LIMITS: PolicyLimits = { bytes: 64 * 1024, rules: 1000, issues: 50 };

/** Nesting a policy never needs: `rules[i].verbs` is three levels deep. */
const MAX_FLOW_DEPTH = 32;
const MAX_BLOCK_INDENT = 128;
const MAX_DASHES_ON_A_LINE = 8;

/**
 * Refuses, before any parsing, what a policy never holds and what makes a YAML parser work hard:
 * deep flow nesting (`[[[[…`, `{{{{…`), deep block nesting (`- - - …`, long indents), anchors and
 * aliases (billion laughs). One linear scan. Brackets and indents are counted whatever surrounds
 * them (a quote the scan misreads must not hide them); only the anchor check looks at quoting.
 */
export function policyTextProblem(text: string, limits: PolicyLimits = DEFAULT_POLICY_LIMITS): LintIssue | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.bytes) return { path: '(document)', message: `the policy is ${bytes} bytes, more than the limit of ${limits.bytes} bytes` };
  // Its text is kept as written (comments and all): it must be text every store can hold.
  if (UNSTORABLE.test(text)) return { path: '(document)', message: `the policy text ${UNSTORABLE_TEXT}` };
  let line = 1;
  let column = 0;
  let depth = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  let lineStart = true;
  let indent = 0;
  let dashes = 0;
  const at = (message: string): LintIssue => ({ line, column, path: '(document)', message });
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    column++;
    if (c === '\n') {
      line++;
      column = 0;
      comment = false;
      lineStart = true;
      indent = 0;
      dashes = 0;
      continue;
    }
    if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return at(`brackets are nested more than ${MAX_FLOW_DEPTH} deep: a policy is never nested that deep`);
    } else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
    if (lineStart) {
      if (c === ' ' || c === '\t') {
        if (++indent > MAX_BLOCK_INDENT) return at(`the policy is indented more than ${MAX_BLOCK_INDENT} columns: a policy is never nested that deep`);
        continue;
      }
      if (c === '-' && (text[i + 1] === ' ' || text[i + 1] === '\n' || i + 1 === text.length)) {
        if (++dashes > MAX_DASHES_ON_A_LINE) return at(`more than ${MAX_DASHES_ON_A_LINE} nested list items start on one line: a policy is never nested that deep`);
        continue;
      }
      lineStart = false;
    }
    if (comment) continue;
    if (quote) {
      if (c === '\\' && quote === '"') i++, column++;
      else if (c === quote) quote = undefined;
      continue;
    }
    const prev = i > 0 ? text[i - 1]! : ' ';
    const tokenStart = prev === ' ' || prev === '\t' || prev === '[' || prev === '{' || prev === ',' || prev === '\n' || column === 1;
    if (c === '#' && (prev === ' ' || prev === '\t' || column === 1)) comment = true;
    else if ((c === '"' || c === "'") && tokenStart) quote = c;
    else if ((c === '&' || c === '*') && tokenStart && /[^\s,[\]{}]/.test(text[i + 1] ?? ' ')) {
      return at(`${c === '&' ? 'anchors' : 'aliases'} (${c}name) are not allowed in a policy: write each rule out (quote "*" when you mean every verb or resource)`);
    }
  }
  return undefined;
}

/** Keeps the first `limit` errors and warnings, saying how many were left out. */
function capIssues(result: LintResult, limit: number): LintResult {
  if (result.errors.length <= limit && result.warnings.length <= limit) return result;
  return {
    ...result,
    errors: result.errors.slice(0, limit),
    warnings: result.warnings.slice(0, limit),
    truncated: { errors: Math.max(0, result.errors.length - limit), warnings: Math.max(0, result.warnings.length - limit) },
  };
}

/** Checks a decoded policy within the limits: the rule count first, so a huge list is not walked. */
export function checkPolicy(value: unknown, limits: PolicyLimits = DEFAULT_POLICY_LIMITS, locate?: Locate): LintResult {
  const rules = (value as { rules?: unknown } | null)?.rules;
  if (Array.isArray(rules) && rules.length > limits.rules) {
    return { valid: false, errors: [{ path: 'rules', message: `the policy has ${rules.length} rules, more than the limit of ${limits.rules}` }], warnings: [] };
  }
  return capIssues(validatePolicy(value, locate), limits.issues);
}

/** Parses and checks a policy written as YAML (or JSON, which is YAML too), with line:column positions. */
export function lintPolicyText(text: string, limits: PolicyLimits = DEFAULT_POLICY_LIMITS): LintResult {
  const problem = policyTextProblem(text, limits);
  if (problem) return { valid: false, errors: [problem], warnings: [] };
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      const message = e.message.split('\n')[0] ?? e.message;
      return { line: pos.line, column: pos.col, path: '(document)', message };
    });
    return capIssues({ valid: false, errors, warnings: [] }, limits.issues);
  }
  if (doc.contents === null) {
    return { valid: false, errors: [{ line: 1, column: 1, path: '(document)', message: 'the document is empty' }], warnings: [] };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 0 });
  } catch (e) {
    // The scan above refuses aliases already; anything else the composer refuses is still the document's fault.
    return { valid: false, errors: [{ line: 1, column: 1, path: '(document)', message: (e as Error).message.split('\n')[0] ?? 'the document cannot be read' }], warnings: [] };
  }
  return checkPolicy(value, limits, locator(doc, lineCounter));
}

function locator(doc: Document, lineCounter: LineCounter): Locate {
  return (path) => {
    // Point at the key for a field that is present, at the value for a list item, at the parent otherwise.
    for (let n = path.length; n >= 0; n--) {
      const prefix = path.slice(0, n);
      const parent = prefix.length > 1 ? doc.getIn(prefix.slice(0, -1), true) : prefix.length === 1 ? doc.contents : undefined;
      const last = prefix[prefix.length - 1];
      if (isMap(parent) && typeof last === 'string') {
        const pair = parent.items.find((p) => (p.key as { value?: unknown } | null)?.value === last);
        const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
        if (range) return toPos(lineCounter.linePos(range[0]));
      }
      if (isSeq(parent) && typeof last === 'number') {
        const range = (parent.items[last] as { range?: [number, number, number] } | undefined)?.range;
        if (range) return toPos(lineCounter.linePos(range[0]));
      }
      if (prefix.length === 0) {
        const range = (doc.contents as { range?: [number, number, number] } | null)?.range;
        return range ? toPos(lineCounter.linePos(range[0])) : undefined;
      }
    }
    return undefined;
  };
}

const toPos = (p: { line: number; col: number }) => ({ line: p.line, column: p.col });

export function policyToYaml(policy: PolicyDocument): string {
  const lines = [`name: ${policy.name}`];
  if (policy.description) lines.push(`description: ${JSON.stringify(policy.description)}`);
  lines.push('rules:');
  if (policy.rules.length === 0) lines[lines.length - 1] = 'rules: []';
  for (const rule of policy.rules) {
    lines.push(`  - resource: ${JSON.stringify(rule.resource)}`);
    lines.push(`    verbs: [${rule.verbs.map((v) => JSON.stringify(v)).join(', ')}]`);
    if (rule.namespace !== undefined) lines.push(`    namespace: ${JSON.stringify(rule.namespace)}`);
  }
  return lines.join('\n') + '\n';
}
