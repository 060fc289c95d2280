import { describe, expect, it } from 'vitest';
import { formatSelector, parseSelector } from '../../src/core/selector.js';
import { RuneError } from '../../src/core/errors.js';

describe('token selector grammar', () => {
  it('reads every term, joined by commas, with spaces around them', () => {
    expect(parseSelector(' subject=alice , policy=cast,name-prefix=ci-,created-by=tok_abc123,unused-for=30d,expires-within=1h30m,kind=service,search=Laptop ')).toEqual({
      subject: 'alice',
      policy: 'cast',
      namePrefix: 'ci-',
      createdBy: 'tok_abc123',
      unusedFor: 30 * 86_400_000,
      expiresWithin: 90 * 60_000,
      kind: 'service',
      search: 'Laptop',
    });
  });

  it('a quoted value may hold commas, quotes and backslashes, and formatSelector writes it back the same', () => {
    const s = parseSelector('name-prefix="a,b \\"c\\" \\\\d",search=" x"');
    expect(s).toEqual({ namePrefix: 'a,b "c" \\d', search: ' x' });
    expect(parseSelector(formatSelector(s))).toEqual(s);
    for (const text of ['unused-for=1500ms', 'expires-within=2w', 'kind=user,subject=bob']) expect(parseSelector(formatSelector(parseSelector(text)))).toEqual(parseSelector(text));
  });

  it('formatSelector writes terms in the grammar\'s order, durations compact', () => {
    expect(formatSelector(parseSelector('kind=user,unused-for=720h,subject=bob'))).toBe('subject=bob,unused-for=30d,kind=user');
  });

  it.each([
    ['', undefined],
    ['foo=1', 'foo=1'],
    ['kind=users', 'kind=users'],
    ['policy=Not_A_Name', 'policy=Not_A_Name'],
    ['expires-within=-1d', 'expires-within=-1d'],
    ['search="a"b', 'search="a"b'],
  ])('"%s" is refused naming the term %s', (text, term) => {
    let error: unknown;
    try {
      parseSelector(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuneError);
    expect((error as RuneError).details).toEqual({ field: 'selector', ...(term ? { term } : {}) });
  });
});
