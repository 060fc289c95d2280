/**
 * The OSC 52 "set clipboard" sequence, which terminals honour over SSH. Inside tmux it is wrapped
 * in a DCS passthrough (ESCs doubled) so tmux hands it to the outer terminal.
 */
export function osc52(text: string, env: NodeJS.ProcessEnv = process.env): string {
  const seq = `\x1b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\x07`;
  if (env.TMUX) return `\x1bPtmux;${seq.replace(/\x1b/g, '\x1b\x1b')}\x1b\\`;
  return seq;
}
