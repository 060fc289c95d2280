import { displayWidth, padCells } from './width.js';

/** kubectl-style: UPPERCASE headers, columns aligned with three spaces (in terminal cells), no borders. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '<none>' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => displayWidth(r[i] ?? ''))));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : padCells(c ?? '', widths[i]!))).join('   ').trimEnd()).join('\n') + '\n';
}
