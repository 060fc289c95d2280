import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatches } from '../../src/core/trusts.js';

/** The obvious definition, as a regex: right, but exponential on some patterns. */
const byRegex = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]')}$`).test(value);

describe('globMatches', () => {
  it.each([
    ['repo:acme/*', 'repo:acme/api', true],
    ['repo:acme/*', 'repo:acme/', true],
    ['repo:acme/*', 'repo:other/api', false],
    ['repo:acme/api:ref:refs/heads/?', 'repo:acme/api:ref:refs/heads/x', true],
    ['repo:acme/api:ref:refs/heads/?', 'repo:acme/api:ref:refs/heads/xy', false],
    ['*', '', true],
    ['', '', true],
    ['', 'x', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYcZ', false],
    ['a.b', 'aXb', false],
    ['*.example', 'x.example', true],
  ])('%j against %j is %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it('agrees with the regex definition on any pattern and value', () => {
    const text = (chars: string[]) => fc.array(fc.constantFrom(...chars), { maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text(['a', 'b', '*', '?', '.', '\\']), text(['a', 'b', '.', '*', '\\']), (pattern, value) => {
        expect(globMatches(pattern, value)).toBe(byRegex(pattern, value));
      }),
      { numRuns: 5000, seed: 20261204 },
    );
  });

  it('answers a pattern of many stars against a long claim (a backtracking regex would not, in any useful time)', () => {
    // byRegex on these would backtrack for hours; this must simply answer.
    expect(globMatches('*a*a*a*a*a*a*b', 'a'.repeat(16_000))).toBe(false);
    expect(globMatches('*a*a*a*a*a*a*b', `${'a'.repeat(16_000)}b`)).toBe(true);
    expect(globMatches(`${'*'.repeat(256)}x`, 'y'.repeat(16_000))).toBe(false);
  });
});
