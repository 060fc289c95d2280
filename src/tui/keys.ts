/**
 * The key splitter: raw terminal input (chunks as read from stdin, cut anywhere) in, one
 * keypress per key out. Escape sequences split across reads wait for their rest; a bracketed
 * paste (ESC[200~ … ESC[201~) comes out as one `paste` keypress holding the text verbatim.
 * Pure and synchronous: the caller owns the timer that flushes a lone Esc.
 */
export interface Keypress {
  /** As the keymap writes keys: "a", "space", "enter", "ctrl-a", "shift-tab", "up", "paste". */
  name: string;
  /** The text the key types ('' for control and movement keys); for a paste, the pasted text. */
  text: string;
  /** The bytes as they arrived. */
  sequence: string;
  ctrl: boolean;
  shift: boolean;
  meta: boolean;
  paste: boolean;
}

export const PASTE_START = '\x1b[200~';
export const PASTE_END = '\x1b[201~';
export { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON } from '../terminal/screen.js';
/** How long a lone Esc waits for the rest of a sequence before it counts as the Esc key. */
export const ESC_TIMEOUT_MS = 50;
/** A paste whose end marker never comes (a dropped byte) ends after this long without input. */
export const PASTE_TIMEOUT_MS = 1000;

const key = (name: string, sequence: string, extra: Partial<Keypress> = {}): Keypress => ({ name, text: '', sequence, ctrl: false, shift: false, meta: false, paste: false, ...extra });

const TILDE: Record<string, string> = { '1': 'home', '2': 'insert', '3': 'delete', '4': 'end', '5': 'pgup', '6': 'pgdn', '7': 'home', '8': 'end' };
const LETTER: Record<string, string> = { A: 'up', B: 'down', C: 'right', D: 'left', H: 'home', F: 'end', E: 'clear', P: 'f1', Q: 'f2', R: 'f3', S: 'f4' };

/** Names a complete CSI or SS3 sequence, with the xterm modifier parameter (2 shift, 3 alt, 5 ctrl). */
function namedSequence(seq: string): Keypress {
  const ss3 = seq[1] === 'O';
  const body = seq.slice(2, -1);
  const final = seq.at(-1)!;
  if (!ss3 && final === 'Z') return key('shift-tab', seq, { shift: true });
  const params = body.replace(/^\[/, '').split(';');
  let base: string | undefined;
  if (final === '~') base = TILDE[params[0]!];
  else base = LETTER[final];
  if (!base) return key('unknown', seq);
  const mod = Math.max(0, Number(params[1] ?? 1) - 1);
  const shift = (mod & 1) !== 0;
  const meta = (mod & 2) !== 0;
  const ctrl = (mod & 4) !== 0;
  return key(`${ctrl ? 'ctrl-' : ''}${meta ? 'meta-' : ''}${shift ? 'shift-' : ''}${base}`, seq, { ctrl, meta, shift });
}

/** One byte (or code point) that is not part of an escape sequence. */
function plainKey(ch: string): Keypress {
  const code = ch.codePointAt(0)!;
  if (ch === '\r' || ch === '\n') return key('enter', ch);
  if (ch === '\t') return key('tab', ch);
  if (ch === '\x7f' || ch === '\b') return key('backspace', ch);
  if (code === 0) return key('ctrl-space', ch, { ctrl: true });
  if (code < 0x20) return key(`ctrl-${String.fromCharCode(code + 0x60)}`, ch, { ctrl: true });
  if (ch === ' ') return key('space', ch, { text: ' ' });
  return key(ch, ch, { text: ch, shift: ch !== ch.toLowerCase() });
}

/** Where a CSI/SS3 sequence starting at `i` (an ESC) ends: its end index, 'pending', or 'invalid'. */
function sequenceEnd(buf: string, i: number): number | 'pending' | 'invalid' {
  const kind = buf[i + 1];
  if (kind === undefined) return 'pending';
  if (kind === 'O') return i + 2 < buf.length ? i + 3 : 'pending';
  if (kind !== '[') return 'invalid';
  let j = i + 2;
  // The Linux console's function keys: ESC [ [ A.
  if (buf[j] === '[') return j + 1 < buf.length ? j + 2 : 'pending';
  for (; j < buf.length; j++) {
    const c = buf.charCodeAt(j);
    if (c >= 0x20 && c <= 0x3f) continue;
    if (c >= 0x40 && c <= 0x7e) return j + 1;
    return 'invalid';
  }
  return 'pending';
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker` (a marker cut by a read). */
function partialSuffix(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) if (text.endsWith(marker.slice(0, n))) return n;
  return 0;
}

export class KeySplitter {
  /** Bytes held back: the start of an escape sequence, or a paste end marker cut by a read. */
  private pending = '';
  /** The text of a paste in progress (undefined outside a paste). */
  private pasted: string | undefined;

  /** True when bytes wait for the rest of a sequence; the caller flushes them after ESC_TIMEOUT_MS. */
  get waiting(): boolean {
    return this.pending !== '' && this.pasted === undefined;
  }

  get inPaste(): boolean {
    return this.pasted !== undefined;
  }

  push(chunk: string): Keypress[] {
    const out: Keypress[] = [];
    const buf = this.pending + chunk;
    this.pending = '';
    let i = 0;
    while (i < buf.length) {
      if (this.pasted !== undefined) {
        const end = buf.indexOf(PASTE_END, i);
        if (end === -1) {
          const rest = buf.slice(i);
          const cut = partialSuffix(rest, PASTE_END);
          this.pasted += rest.slice(0, rest.length - cut);
          this.pending = rest.slice(rest.length - cut);
          return out;
        }
        this.pasted += buf.slice(i, end);
        out.push(key('paste', PASTE_START + this.pasted + PASTE_END, { text: this.pasted, paste: true }));
        this.pasted = undefined;
        i = end + PASTE_END.length;
        continue;
      }
      const ch = buf[i]!;
      if (ch === '\x1b') {
        const end = sequenceEnd(buf, i);
        if (end === 'pending') {
          this.pending = buf.slice(i);
          return out;
        }
        if (end === 'invalid') {
          // Esc followed by an ordinary key: two keys (Esc, then that key), as typed.
          out.push(key('esc', ch));
          i += 1;
          continue;
        }
        const seq = buf.slice(i, end);
        i = end;
        if (seq === PASTE_START) this.pasted = '';
        else if (seq !== PASTE_END) out.push(namedSequence(seq));
        continue;
      }
      // CR LF is one Enter (some terminals and pastes without bracketing send both).
      if (ch === '\r' && buf[i + 1] === '\n') {
        out.push(key('enter', '\r\n'));
        i += 2;
        continue;
      }
      const cp = String.fromCodePoint(buf.codePointAt(i)!);
      out.push(plainKey(cp));
      i += cp.length;
    }
    return out;
  }

  /** After the paste timeout: the paste so far is delivered, so a lost end marker cannot swallow the keyboard. */
  endPaste(): Keypress[] {
    if (this.pasted === undefined) return [];
    const text = this.pasted + this.pending;
    this.pasted = undefined;
    this.pending = '';
    return [key('paste', PASTE_START + text, { text, paste: true })];
  }

  /** After the Esc timeout: what is held back becomes keys (a lone Esc, or Esc and what followed). */
  flush(): Keypress[] {
    if (!this.waiting) return [];
    const held = this.pending;
    this.pending = '';
    const out = [key('esc', '\x1b')];
    return out.concat(this.push(held.slice(1)));
  }
}
