/** The terminal's alternate screen: the TUI draws there, so the shell's screen is intact after it. */
export const ALT_SCREEN_ON = '\x1b[?1049h';
export const ALT_SCREEN_OFF = '\x1b[?1049l';
/** Bracketed paste: the terminal wraps a paste in ESC[200~ … ESC[201~. */
export const BRACKETED_PASTE_ON = '\x1b[?2004h';
export const BRACKETED_PASTE_OFF = '\x1b[?2004l';

/** What a full-screen UI must give up while another program (an editor) has the terminal. */
export interface TerminalControl {
  write(data: string): void;
  setRawMode(on: boolean): void;
}

/**
 * Hands the terminal to `run` (the main screen, a cooked terminal, no bracketed paste: the program
 * sets up its own) and takes it back: the alternate screen, paste mode, the cursor at the top.
 */
export function handOver<T>(terminal: TerminalControl, run: () => T): T {
  terminal.write(BRACKETED_PASTE_OFF + ALT_SCREEN_OFF);
  terminal.setRawMode(false);
  try {
    return run();
  } finally {
    terminal.setRawMode(true);
    // Entering the alternate screen clears it; the caller draws the frame again from the top.
    terminal.write(ALT_SCREEN_ON + BRACKETED_PASTE_ON + '\x1b[H');
  }
}
