import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, parseTtl } from '../../src/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30m', 30 * 60_000],
    ['720h', 720 * 3_600_000],
    ['90d', 90 * 86_400_000],
    ['1h30m', 90 * 60_000],
    ['2w', 14 * 86_400_000],
    ['1500ms', 1500],
    ['1d12h', 36 * 3_600_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'abc', '10', 'h', '1x', '-5m', '1.5h', '1h 30m', '30m1'])('"%s" is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe('parseTtl', () => {
  it('refuses zero with a message', () => expect(() => parseTtl('0h')).toThrow(/greater than zero/));
  it('refuses a non-duration naming the field and an example', () => expect(() => parseTtl('soon')).toThrow(/ttl "soon" is not a duration.*720h/));
  it('refuses a number', () => expect(() => parseTtl(3600)).toThrow(/duration string/));
});

describe('formatDuration', () => {
  it.each([
    [90 * 86_400_000, '90d'],
    [90 * 60_000, '1h30m'],
    [45_000, '45s'],
    [500, '500ms'],
  ])('%d ms reads %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
