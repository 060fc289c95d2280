import { describe, expect, it } from 'vitest';
import { displayWidth, fitCells, padCells } from '../../src/format/width.js';

/** The wcwidth decision table: what a terminal gives each kind of character. */
describe('display width in terminal cells', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['東京', 4],
    ['한국어', 6],
    ['ｆｕｌｌ', 8],
    ['🚀', 2],
    ['👩‍💻', 2],
    ['👍🏽', 2],
    ['❤️', 2],
    ['é', 1],
    ['e\u0301', 1],
    ['a\u200bb', 2],
    ['\x1b', 0],
  ])('%j is %i cells', (text, cells) => expect(displayWidth(text)).toBe(cells));

  it('pads and cuts by cells, never splitting a wide character', () => {
    expect(padCells('東京', 6)).toBe('東京  ');
    expect(fitCells('東京都庁', 5)).toBe('東京…');
    expect(displayWidth(fitCells('東京都庁', 5))).toBe(5);
    expect(fitCells('🚀🚀🚀', 4)).toBe('🚀… ');
    expect(fitCells('abcdefgh', 5)).toBe('abcd…');
    expect(fitCells('ab', 5)).toBe('ab   ');
  });
});
