import { describe, expect, it } from 'vitest';
import { editorReducer, fromText, lineDiff, toText, windowTop, type EditorAction, type EditorState } from '../../src/components/editorState.js';

const run = (text: string, ...actions: EditorAction[]): EditorState => actions.reduce(editorReducer, fromText(text));
const at = (s: EditorState, row: number, col: number): EditorState => ({ ...s, row, col });

describe('the YAML editor state', () => {
  it('types at the cursor and moves it', () => {
    const s = run('ab', { type: 'move', dRow: 0, dCol: 1 }, { type: 'insert', text: 'X' });
    expect(toText(s)).toBe('aXb');
    expect([s.row, s.col]).toEqual([0, 2]);
  });

  it('a newline keeps the indentation, adds a level after "key:", and continues a list item', () => {
    let s = editorReducer(at(fromText('rules:'), 0, 6), { type: 'newline' });
    expect(s.lines).toEqual(['rules:', '  ']);
    s = editorReducer(at(fromText('  - resource: services'), 0, 22), { type: 'newline' });
    expect(s.lines[1]).toBe('    ');
    expect(s.col).toBe(4);
    s = editorReducer(at(fromText('    verbs: [get]'), 0, 16), { type: 'newline' });
    expect(s.lines[1]).toBe('    ');
  });

  it('a newline in the middle of a line splits it', () => {
    const s = editorReducer(at(fromText('abcdef'), 0, 3), { type: 'newline' });
    expect(s.lines).toEqual(['abc', 'def']);
  });

  it('a paste of several lines goes in as lines', () => {
    const s = editorReducer(at(fromText('rules:'), 0, 6), { type: 'insert', text: '\n  - resource: logs\n    verbs: [get]' });
    expect(toText(s)).toBe('rules:\n  - resource: logs\n    verbs: [get]');
  });

  it('backspace at the start of a line joins it to the previous one; ctrl-d deletes forward', () => {
    let s = editorReducer(at(fromText('ab\ncd'), 1, 0), { type: 'backspace' });
    expect([toText(s), s.row, s.col]).toEqual(['abcd', 0, 2]);
    s = editorReducer(at(fromText('ab\ncd'), 0, 2), { type: 'delete' });
    expect(toText(s)).toBe('abcd');
  });

  it('home, end, page and the window follow the cursor', () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    let s = run(text, { type: 'page', dir: 1, height: 20 }, { type: 'end' });
    expect([s.row, s.col]).toEqual([20, 7]);
    s = editorReducer(s, { type: 'home' });
    expect(s.col).toBe(0);
    expect(windowTop(0, 20, 10)).toBe(11);
    expect(windowTop(11, 5, 10)).toBe(5);
    expect(windowTop(5, 8, 10)).toBe(5);
  });

  it('diffs line by line', () => {
    expect(lineDiff('a\nb\nc', 'a\nB\nc\nd')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'B' },
      { op: ' ', text: 'c' },
      { op: '+', text: 'd' },
    ]);
  });
});
