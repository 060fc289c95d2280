/**
 * The OSC 52 "set clipboard" sequence, which terminals honour over SSH. Inside tmux it goes out
 * plain: tmux with set-clipboard on understands OSC 52 itself, keeps the text in its paste
 * buffer and forwards it to the outer terminal, whereas a DCS passthrough is dropped by default.
 */
export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
}
