import { describe, expect, it } from 'vitest';
import { KeySplitter, PASTE_END, PASTE_START } from '../../src/tui/keys.js';

/** Feeds reads in order and returns the key names (a paste as `paste:<text>`), flushing a held Esc at the end when asked. */
function split(reads: string[], flush = false): string[] {
  const s = new KeySplitter();
  const keys = reads.flatMap((r) => s.push(r));
  if (flush) keys.push(...s.flush());
  return keys.map((k) => (k.paste ? `paste:${k.text}` : k.name));
}

describe('the key splitter: reads in, one keypress per key out', () => {
  it.each<[string, string[], string[]]>([
    ['a command typed in one read', [':pol\r'], [':', 'p', 'o', 'l', 'enter']],
    ['a filter typed in one read', ['/read\r'], ['/', 'r', 'e', 'a', 'd', 'enter']],
    ['held-down j', ['jjj'], ['j', 'j', 'j']],
    ['three Backspaces (DEL) in one read', ['\x7f\x7f\x7f'], ['backspace', 'backspace', 'backspace']],
    ['Backspace as ^H', ['\b'], ['backspace']],
    ['text, Left, text', ['abc\x1b[DX'], ['a', 'b', 'c', 'left', 'X']],
    ['a form row, Down, the next row, Enter', ['dave\x1b[Bdave@x.io\r'], ['d', 'a', 'v', 'e', 'down', 'd', 'a', 'v', 'e', '@', 'x', '.', 'i', 'o', 'enter']],
    ['n then a name in one read', ['nfast-bot\r'], ['n', 'f', 'a', 's', 't', '-', 'b', 'o', 't', 'enter']],
    ['Tab Tab Tab', ['\t\t\t'], ['tab', 'tab', 'tab']],
    ['Shift-Tab', ['\x1b[Z'], ['shift-tab']],
    ['text and Tab', ['x\ty'], ['x', 'tab', 'y']],
    ['a space', ['a b'], ['a', 'space', 'b']],
    ['CR LF is one Enter, LF alone is Enter', ['a\r\nb\n'], ['a', 'enter', 'b', 'enter']],
    ['control keys', ['\x01\x05\x15\x17\x0b\x13\x0f\x03\x12'], ['ctrl-a', 'ctrl-e', 'ctrl-u', 'ctrl-w', 'ctrl-k', 'ctrl-s', 'ctrl-o', 'ctrl-c', 'ctrl-r']],
    ['arrows, CSI and SS3', ['\x1b[A\x1b[B\x1bOC\x1bOD'], ['up', 'down', 'right', 'left']],
    ['Home/End in their three spellings', ['\x1b[H\x1b[F\x1b[1~\x1b[4~\x1bOH\x1bOF'], ['home', 'end', 'home', 'end', 'home', 'end']],
    ['Delete, PgUp, PgDn', ['\x1b[3~\x1b[5~\x1b[6~'], ['delete', 'pgup', 'pgdn']],
    ['modified arrows', ['\x1b[1;5D\x1b[1;2C\x1b[1;3A'], ['ctrl-left', 'shift-right', 'meta-up']],
    ['Esc followed by an ordinary key in the same read: both', ['\x1bq'], ['esc', 'q']],
    ['Esc Esc', ['\x1b\x1b[A'], ['esc', 'up']],
    ['an unknown sequence is one key, not letters', ['\x1b[99xZ'], ['unknown', 'Z']],
    ['non-ASCII and astral characters', ['é😀'], ['é', '😀']],
    // Reads cut anywhere.
    ['an arrow split after ESC', ['a\x1b', '[Db'], ['a', 'left', 'b']],
    ['an arrow split after ESC [', ['\x1b[', 'A'], ['up']],
    ['a Delete split inside its parameter', ['\x1b[3', '~'], ['delete']],
    ['an SS3 arrow split', ['\x1bO', 'B'], ['down']],
    // Bracketed paste.
    ['a paste is one key, verbatim', [`${PASTE_START}a\tb\r\nc:\x7f${PASTE_END}`], ['paste:a\tb\r\nc:\x7f']],
    ['keys around a paste', [`x${PASTE_START}pasted${PASTE_END}\r`], ['x', 'paste:pasted', 'enter']],
    ['paste start split across reads', ['\x1b[20', `0~abc${PASTE_END}`], ['paste:abc']],
    ['paste end split across reads', [`${PASTE_START}abc\x1b[2`, '01~z'], ['paste:abc', 'z']],
    ['paste end split right after ESC', [`${PASTE_START}abc\x1b`, '[201~'], ['paste:abc']],
    ['a paste spread over many reads', [PASTE_START, 'line 1\n', '  line 2\n', PASTE_END], ['paste:line 1\n  line 2\n']],
    ['escape sequences inside a paste stay text', [`${PASTE_START}\x1b[A:q${PASTE_END}`], ['paste:\x1b[A:q']],
  ])('%s', (_what, reads, keys) => {
    expect(split(reads)).toEqual(keys);
  });

  it('a lone Esc waits for more, and is the Esc key once the caller flushes after the timeout', () => {
    const s = new KeySplitter();
    expect(s.push('\x1b')).toEqual([]);
    expect(s.waiting).toBe(true);
    expect(s.flush().map((k) => k.name)).toEqual(['esc']);
    expect(s.waiting).toBe(false);
    expect(split(['\x1b'], true)).toEqual(['esc']);
  });

  it('an unfinished sequence flushed after the timeout: Esc, then what followed', () => {
    expect(split(['\x1b['], true)).toEqual(['esc', '[']);
  });

  it('a paste in progress is never flushed as keys', () => {
    const s = new KeySplitter();
    expect(s.push(`${PASTE_START}half`)).toEqual([]);
    expect(s.waiting).toBe(false);
    expect(s.inPaste).toBe(true);
    expect(s.flush()).toEqual([]);
    expect(s.push(`way${PASTE_END}`).map((k) => k.text)).toEqual(['halfway']);
  });

  it('a paste whose end marker never comes is delivered when the caller ends it after the timeout', () => {
    const s = new KeySplitter();
    expect(s.push(`${PASTE_START}lost end\x1b[20`)).toEqual([]);
    expect(s.endPaste().map((k) => k.text)).toEqual(['lost end\x1b[20']);
    expect(s.inPaste).toBe(false);
    expect(s.push('j').map((k) => k.name)).toEqual(['j']);
  });

  it('a 10 KB paste in 1 KB reads, markers included, comes out as one key, byte for byte', () => {
    const text = Array.from({ length: 400 }, (_, i) => `  - line ${String(i).padStart(4, '0')}: value\n`).join('').slice(0, 10_240);
    const raw = PASTE_START + text + PASTE_END;
    const reads: string[] = [];
    for (let i = 0; i < raw.length; i += 1024) reads.push(raw.slice(i, i + 1024));
    expect(split(reads)).toEqual([`paste:${text}`]);
  });

  it('every split point of a mixed stream gives the same keys as the whole stream', () => {
    const stream = `ab\x1b[D\x7f${PASTE_START}p\x1bq${PASTE_END}\x1b[3~\tZ\r`;
    const whole = split([stream]);
    for (let i = 1; i < stream.length; i++) expect(split([stream.slice(0, i), stream.slice(i)]), `split at ${i}`).toEqual(whole);
  });

  it('a printable key carries its text; control and movement keys carry none', () => {
    const [a, space, enter, left] = new KeySplitter().push('a \r\x1b[D');
    expect([a!.text, space!.text, enter!.text, left!.text]).toEqual(['a', ' ', '', '']);
    expect(new KeySplitter().push('\x01')[0]).toMatchObject({ name: 'ctrl-a', ctrl: true, text: '' });
  });
});
