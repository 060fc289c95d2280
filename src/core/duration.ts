import { invalid, shown } from './errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PART = /(\d+)(ms|s|m|h|d|w)/y;

/**
 * Parses a duration such as `30m`, `720h`, `90d`, `1h30m` or `2w` into milliseconds.
 * Returns undefined when the text is not a duration; zero is returned as 0 so callers can refuse it.
 */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = PART.lastIndex;
  }
  return Number.isSafeInteger(total) ? total : undefined;
}

/**
 * The longest TTL anything takes: 100 years. Past it an expiry is no longer a date a client can
 * read (JavaScript's dates end in the year 275760), and no token needs to outlive its operators.
 */
export const MAX_TTL_MS = 36_500 * UNIT_MS.d!;
/** MAX_TTL_MS as messages name it. */
export const MAX_TTL_TEXT = '36500d (100 years)';

/** Parses a TTL for a token: a positive duration of at most MAX_TTL_MS. Throws invalid_argument naming the field. */
export function parseTtl(value: unknown, field = 'ttl'): number {
  if (typeof value !== 'string') {
    throw invalid(`${field} must be a duration string such as "720h", "90d" or "1h30m"`, { field });
  }
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw invalid(`${field} "${shown(value)}" is not a duration: use a number and a unit (ms, s, m, h, d, w), e.g. "720h", "90d", "1h30m"`, { field });
  }
  if (ms <= 0) throw invalid(`${field} must be greater than zero`, { field });
  if (ms > MAX_TTL_MS) throw invalid(`${field} "${shown(value)}" is longer than ${MAX_TTL_TEXT}, the most any TTL can be`, { field });
  return ms;
}

/** Formats milliseconds compactly: 90d, 720h → 30d, 1h30m, 45s. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['d', UNIT_MS.d!], ['h', UNIT_MS.h!], ['m', UNIT_MS.m!], ['s', UNIT_MS.s!]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (parts.length === 0) return `${ms}ms`;
  return parts.join('');
}
