/** The terminal's alternate screen: the TUI draws there, so the shell's screen is intact after it. */
export const ALT_SCREEN_ON = '\x1b[?1049h';
export const ALT_SCREEN_OFF = '\x1b[?1049l';
