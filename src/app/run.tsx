import { render } from 'ink';
import React from 'react';
import { ContextStore } from '../config/contexts.js';
import { App } from './App.js';
import { BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON } from '../tui/keys.js';
import { ALT_SCREEN_OFF, ALT_SCREEN_ON } from '../terminal/screen.js';

/**
 * Opens the TUI on the alternate screen, so nothing it showed (a revealed secret included) is left
 * in the terminal's scrollback when it exits, with bracketed paste on (a paste arrives marked as
 * one); both are undone on the way out, however the process ends.
 */
export async function runTui(opts: { readOnly?: boolean; context?: string } = {}): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('error: the interactive UI needs a terminal (stdin and stdout are not a TTY); use the CLI instead: rune admin --help\n');
    return 2;
  }
  const store = new ContextStore();
  if (opts.context) store.require(opts.context); // an unknown --context is an error before the screen changes
  process.stdout.write(ALT_SCREEN_ON + BRACKETED_PASTE_ON);
  const restore = () => process.stdout.write(BRACKETED_PASTE_OFF + ALT_SCREEN_OFF);
  process.on('exit', restore);
  try {
    const app = render(<App store={store} readOnly={opts.readOnly === true} {...(opts.context ? { initialContext: opts.context } : {})} />, { exitOnCtrlC: false, patchConsole: true });
    await app.waitUntilExit();
    app.cleanup();
  } finally {
    restore();
    process.off('exit', restore);
  }
  return 0;
}
