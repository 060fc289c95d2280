/** The text editor's state and edits, as a pure reducer (the component only maps keys to actions). */
export interface EditorState {
  lines: string[];
  row: number;
  col: number;
}

export type EditorAction =
  | { type: 'insert'; text: string }
  | { type: 'newline' }
  | { type: 'backspace' }
  | { type: 'delete' }
  | { type: 'move'; dRow: number; dCol: number }
  | { type: 'home' }
  | { type: 'end' }
  | { type: 'page'; dir: 1 | -1; height: number }
  | { type: 'set'; text: string }
  | { type: 'kill-line' };

export const fromText = (text: string): EditorState => ({ lines: text.replace(/\r\n?/g, '\n').split('\n'), row: 0, col: 0 });
export const toText = (s: EditorState): string => s.lines.join('\n');

const clampCol = (s: EditorState, row: number, col: number) => Math.max(0, Math.min(col, s.lines[row]!.length));

export function editorReducer(s: EditorState, a: EditorAction): EditorState {
  const line = s.lines[s.row]!;
  switch (a.type) {
    case 'set':
      return fromText(a.text);
    case 'kill-line': {
      if (s.lines.length === 1) return { lines: [''], row: 0, col: 0 };
      const lines = s.lines.filter((_, i) => i !== s.row);
      const row = Math.min(s.row, lines.length - 1);
      return { lines, row, col: clampCol({ ...s, lines }, row, s.col) };
    }
    case 'insert': {
      // Pasted lines go in as they are: no indentation is added to them (as editors' paste mode).
      const parts = a.text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').split('\n');
      const before = line.slice(0, s.col);
      const after = line.slice(s.col);
      const inserted = parts.length === 1 ? [before + parts[0]! + after] : [before + parts[0]!, ...parts.slice(1, -1), parts.at(-1)! + after];
      const lines = [...s.lines];
      lines.splice(s.row, 1, ...inserted);
      const row = s.row + parts.length - 1;
      return { ...s, lines, row, col: parts.length === 1 ? s.col + parts[0]!.length : parts.at(-1)!.length };
    }
    case 'newline': {
      // The new line keeps the current line's indentation (and one more level after a "key:").
      const indent = /^\s*(- )?/.exec(line)![0].replace('- ', '  ');
      const before = line.slice(0, s.col);
      const extra = /:\s*$/.test(before) ? '  ' : '';
      const lines = [...s.lines];
      lines.splice(s.row, 1, before, indent + extra + line.slice(s.col).trimStart());
      return { ...s, lines, row: s.row + 1, col: indent.length + extra.length };
    }
    case 'backspace': {
      if (s.col > 0) {
        const lines = [...s.lines];
        lines[s.row] = line.slice(0, s.col - 1) + line.slice(s.col);
        return { ...s, lines, col: s.col - 1 };
      }
      if (s.row === 0) return s;
      const prev = s.lines[s.row - 1]!;
      const lines = [...s.lines];
      lines.splice(s.row - 1, 2, prev + line);
      return { ...s, lines, row: s.row - 1, col: prev.length };
    }
    case 'delete': {
      if (s.col < line.length) {
        const lines = [...s.lines];
        lines[s.row] = line.slice(0, s.col) + line.slice(s.col + 1);
        return { ...s, lines };
      }
      if (s.row === s.lines.length - 1) return s;
      const lines = [...s.lines];
      lines.splice(s.row, 2, line + s.lines[s.row + 1]!);
      return { ...s, lines };
    }
    case 'move': {
      let row = s.row;
      let col = s.col + a.dCol;
      if (col < 0 && row > 0 && a.dRow === 0) {
        row--;
        col = s.lines[row]!.length;
      } else if (col > line.length && row < s.lines.length - 1 && a.dRow === 0) {
        row++;
        col = 0;
      }
      row = Math.max(0, Math.min(s.lines.length - 1, row + a.dRow));
      return { ...s, row, col: clampCol(s, row, col) };
    }
    case 'home':
      return { ...s, col: 0 };
    case 'end':
      return { ...s, col: line.length };
    case 'page': {
      const row = Math.max(0, Math.min(s.lines.length - 1, s.row + a.dir * a.height));
      return { ...s, row, col: clampCol(s, row, s.col) };
    }
  }
}

/** The first line to show so that the cursor's line stays inside a window of `height` lines. */
export function windowTop(previousTop: number, row: number, height: number): number {
  if (row < previousTop) return row;
  if (row >= previousTop + height) return row - height + 1;
  return previousTop;
}

/** A line diff (longest common subsequence): ' ' kept, '-' removed, '+' added. */
export function lineDiff(before: string, after: string): { op: ' ' | '-' | '+'; text: string }[] {
  // An empty text has no lines (a new policy's diff is all '+', not a stray '-' for the empty one).
  const a = before === '' ? [] : before.split('\n');
  const b = after === '' ? [] : after.split('\n');
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: { op: ' ' | '-' | '+'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) (out.push({ op: ' ', text: a[i]! }), i++, j++);
    else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', text: a[i++]! });
    else out.push({ op: '+', text: b[j++]! });
  }
  while (i < n) out.push({ op: '-', text: a[i++]! });
  while (j < m) out.push({ op: '+', text: b[j++]! });
  return out;
}
