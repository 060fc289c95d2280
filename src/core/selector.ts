import { formatDuration, parseDuration } from './duration.js';
import { invalid } from './errors.js';
import { dnsLabelProblem, suggest } from './names.js';

/**
 * A token selector: terms joined by commas, all of which a token must match (AND). Only live
 * (not revoked) tokens ever match. Parsed here so the CLI and the TUI can check it before sending.
 *
 *   subject=NAME          tokens of this user or service account
 *   policy=NAME           tokens that carry this policy: narrowed tokens whose list names it, and
 *                         tokens that are not narrowed whose subject holds it
 *   name-prefix=TEXT      token names starting with TEXT (case-sensitive)
 *   created-by=TOKEN_ID   tokens minted by the holder of that token
 *   unused-for=DURATION   not used for that long; a never-used token counts from its creation
 *   expires-within=DURATION  expiring from now to now + DURATION (not already expired, not "never")
 *   kind=user|service     the subject's kind
 *   search=TEXT           the token list's search: a case-insensitive substring of name, subject,
 *                         description or id
 *
 * A value holding a comma or a quote is written in double quotes ("a,b"; \" and \\ inside).
 */
export interface Selector {
  subject?: string;
  policy?: string;
  namePrefix?: string;
  createdBy?: string;
  /** Milliseconds. */
  unusedFor?: number;
  /** Milliseconds. */
  expiresWithin?: number;
  kind?: 'user' | 'service';
  search?: string;
}

export const SELECTOR_TERMS = ['subject', 'policy', 'name-prefix', 'created-by', 'unused-for', 'expires-within', 'kind', 'search'] as const;
type Term = (typeof SELECTOR_TERMS)[number];

/** How long a selector's text may be (a search term is bounded like ?search=). */
export const SELECTOR_MAX_LENGTH = 1024;
const TOKEN_ID = /^tok_[0-9A-Za-z]{1,64}$/;

/** The problem with one term: a 400 that names the term and what is wrong with it. */
const bad = (term: string, why: string) => invalid(`selector term "${term}" ${why}`, { field: 'selector', term });

/** Splits the text at top-level commas, honouring double-quoted values. */
function splitTerms(text: string): { raw: string; key: string; value: string }[] {
  const terms: { raw: string; key: string; value: string }[] = [];
  let i = 0;
  while (i <= text.length) {
    const start = i;
    let key = '';
    while (i < text.length && text[i] !== '=' && text[i] !== ',') key += text[i++];
    if (i >= text.length || text[i] === ',') {
      const raw = text.slice(start, i).trim();
      if (raw === '') throw invalid(text.trim() === '' ? 'selector is empty: give at least one term, e.g. subject=alice' : 'selector has an empty term (two commas in a row, or a comma at an end)', { field: 'selector' });
      throw bad(raw, `has no value: write it as KEY=VALUE (keys: ${SELECTOR_TERMS.join(', ')})`);
    }
    i++; // '='
    let value = '';
    // Leading spaces before a quote are layout, not value.
    let j = i;
    while (text[j] === ' ') j++;
    if (text[j] === '"') {
      i = j + 1;
      let closed = false;
      while (i < text.length) {
        const c = text[i]!;
        if (c === '\\' && (text[i + 1] === '"' || text[i + 1] === '\\')) {
          value += text[i + 1];
          i += 2;
        } else if (c === '"') {
          closed = true;
          i++;
          break;
        } else value += text[i++];
      }
      if (!closed) throw bad(text.slice(start).trim(), 'has a quote that is not closed');
      while (text[i] === ' ') i++;
      if (i < text.length && text[i] !== ',') throw bad(text.slice(start, i + 1).trim(), 'has text after its closing quote: put a comma between terms');
    } else {
      while (i < text.length && text[i] !== ',') value += text[i++];
      value = value.trim();
    }
    terms.push({ raw: text.slice(start, i).trim(), key: key.trim(), value });
    i++; // ','
    if (i === text.length) throw invalid('selector has an empty term (a comma at the end)', { field: 'selector' });
  }
  return terms;
}

/** Parses a selector; throws invalid_argument (field "selector", the bad term in details) on any mistake. */
export function parseSelector(text: string): Selector {
  if (typeof text !== 'string') throw invalid('selector must be a string such as "subject=alice,unused-for=30d"', { field: 'selector' });
  if (text.length > SELECTOR_MAX_LENGTH) throw invalid(`selector must be at most ${SELECTOR_MAX_LENGTH} characters`, { field: 'selector' });
  if (text.trim() === '') throw invalid('selector is empty: give at least one term, e.g. subject=alice (an empty selector would match every token)', { field: 'selector' });
  const selector: Selector = {};
  const seen = new Set<string>();
  for (const { raw, key, value } of splitTerms(text)) {
    if (!(SELECTOR_TERMS as readonly string[]).includes(key)) {
      const hint = suggest(key, SELECTOR_TERMS);
      throw bad(raw, `has an unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}: use ${SELECTOR_TERMS.join(', ')}`);
    }
    if (seen.has(key)) throw bad(raw, `repeats "${key}": each key may appear once (terms are joined by AND)`);
    seen.add(key);
    if (value === '') throw bad(raw, 'has an empty value');
    applyTerm(selector, key as Term, value, raw);
  }
  return selector;
}

function applyTerm(s: Selector, key: Term, value: string, raw: string): void {
  const duration = () => {
    const ms = parseDuration(value);
    if (ms === undefined) throw bad(raw, `has "${value}", which is not a duration: use a number and a unit (s, m, h, d, w), e.g. 30d or 12h`);
    if (ms <= 0) throw bad(raw, 'must be longer than zero');
    return ms;
  };
  const label = () => {
    const problem = dnsLabelProblem(value);
    if (problem) throw bad(raw, `has an invalid name "${value}": it ${problem}`);
    return value;
  };
  switch (key) {
    case 'subject':
      s.subject = label();
      return;
    case 'policy':
      s.policy = label();
      return;
    case 'name-prefix':
      if (value.length > 128) throw bad(raw, 'is longer than a token name can be (128)');
      s.namePrefix = value;
      return;
    case 'created-by':
      if (!TOKEN_ID.test(value)) throw bad(raw, `has "${value}", which is not a token id (tok_…)`);
      s.createdBy = value;
      return;
    case 'unused-for':
      s.unusedFor = duration();
      return;
    case 'expires-within':
      s.expiresWithin = duration();
      return;
    case 'kind':
      if (value !== 'user' && value !== 'service') throw bad(raw, `has "${value}": kind is user or service`);
      s.kind = value;
      return;
    case 'search':
      if (value.length > 200) throw bad(raw, 'is longer than 200 characters');
      s.search = value;
      return;
  }
}

/** A value as the grammar reads it back: quoted when it holds a comma, a quote, a backslash or edge spaces. */
/** A duration that reads back as the same number of milliseconds. */
const exactDuration = (ms: number) => (ms % 1000 === 0 ? formatDuration(ms) : `${ms}ms`);

const quote = (value: string) => (/[,"\\]|^\s|\s$/.test(value) ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : value);

/** The canonical text of a selector (terms in grammar order, durations compact): parseSelector reads it back as equal. */
export function formatSelector(s: Selector): string {
  const terms: string[] = [];
  if (s.subject !== undefined) terms.push(`subject=${s.subject}`);
  if (s.policy !== undefined) terms.push(`policy=${s.policy}`);
  if (s.namePrefix !== undefined) terms.push(`name-prefix=${quote(s.namePrefix)}`);
  if (s.createdBy !== undefined) terms.push(`created-by=${s.createdBy}`);
  if (s.unusedFor !== undefined) terms.push(`unused-for=${exactDuration(s.unusedFor)}`);
  if (s.expiresWithin !== undefined) terms.push(`expires-within=${exactDuration(s.expiresWithin)}`);
  if (s.kind !== undefined) terms.push(`kind=${s.kind}`);
  if (s.search !== undefined) terms.push(`search=${quote(s.search)}`);
  return terms.join(',');
}

export const isEmptySelector = (s: Selector) => Object.keys(s).length === 0;
