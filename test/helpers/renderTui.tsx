import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { render as inkRender } from 'ink';
import type React from 'react';
import { ContextStore } from '../../src/config/contexts.js';

/**
 * Renders an Ink tree into fake streams of a chosen size (ink-testing-library's stdout is fixed
 * at 100 columns and has no rows). Keys are written to stdin; frames are waited for, not slept on.
 */
class FakeStdout extends EventEmitter {
  writes: string[] = [];
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  isTTY = true;
  write = (data: string) => {
    this.writes.push(data);
    return true;
  };
}

class FakeStdin extends EventEmitter {
  isTTY = true;
  private buffer: string | null = null;
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => {
    const data = this.buffer;
    this.buffer = null;
    return data;
  };
  push(data: string) {
    this.buffer = data;
    this.emit('readable');
    this.emit('data', data);
  }
}

export const KEYS = {
  enter: '\r',
  esc: '\x1b',
  tab: '\t',
  shiftTab: '\x1b[Z',
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  pageDown: '\x1b[6~',
  pageUp: '\x1b[5~',
  backspace: '\x7f',
  ctrlR: '\x12',
} as const;

const OSC = '\x1b]';
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));
// eslint-disable-next-line no-control-regex
export const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');

export function renderTui(tree: React.ReactElement, size: { columns: number; rows: number } = { columns: 80, rows: 24 }) {
  const stdout = new FakeStdout(size.columns, size.rows);
  const stderr = new FakeStdout(size.columns, size.rows);
  const stdin = new FakeStdin();
  const instance = inkRender(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  const frames = () => stdout.writes.filter((w) => !w.startsWith(OSC));
  const lastFrame = () => frames().at(-1) ?? '';
  const api = {
    stdout,
    /** The latest frame without colour codes. */
    frame: () => stripAnsi(lastFrame()),
    rawFrame: lastFrame,
    allFrames: () => frames().map(stripAnsi),
    /** Every escape sequence the app wrote outside frames (OSC 52 and the like). */
    sideWrites: () => stdout.writes.filter((w) => w.startsWith(OSC)),
    /** Waits until the frame satisfies `check` (a substring or predicate); fails with the frame. */
    async waitFor(check: string | RegExp | ((frame: string) => boolean), timeoutMs = 5000): Promise<string> {
      const test = typeof check === 'string' ? (f: string) => f.includes(check) : check instanceof RegExp ? (f: string) => check.test(f) : check;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const f = api.frame();
        if (test(f)) return f;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(check)}; last frame:\n${f}`);
        await tick(10);
      }
    },
    /** Sends keys one at a time, letting the app subscribe and render between them. */
    async press(...keys: string[]) {
      for (const k of keys) {
        await tick(15);
        stdin.push(k);
      }
      await tick(15);
    },
    /** Backspace `count` times, all in one read (as a held-down key over SSH delivers them). */
    async erase(count: number) {
      await api.write(KEYS.backspace.repeat(count));
    },
    /**
     * Writes each chunk as one read, back to back, with no render in between: how SSH, tmux and
     * fast typing deliver keys. Only the first waits a tick, for the app to subscribe to stdin.
     */
    async write(...chunks: string[]) {
      await tick(0);
      for (const c of chunks) stdin.push(c);
    },
    /** A bracketed paste, in one read. */
    async paste(text: string) {
      await api.write(`\x1b[200~${text}\x1b[201~`);
    },
    /** Types text as one chunk, as a terminal delivers a paste or tmux send-keys. */
    async type(text: string) {
      await api.press(text);
    },
    resize(columns: number, rows: number) {
      stdout.columns = columns;
      stdout.rows = rows;
      stdout.emit('resize');
    },
    unmount: () => instance.unmount(),
    waitUntilExit: () => instance.waitUntilExit(),
  };
  return api;
}

/** A config file in a new directory under `dir` with one context, `local`, for `server` and `token`, in use. */
export function localContext(dir: string, server: string, token: string): ContextStore {
  const store = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
  store.set('local', { server, token, namespace: 'default' });
  store.use('local');
  return store;
}
