import { execFileSync, spawnSync } from 'node:child_process';

/** A real terminal: a tmux session of the given size running a clean shell. */
export class Tmux {
  readonly name = `rune-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  static available(): boolean {
    return spawnSync('tmux', ['-V']).status === 0;
  }

  constructor(env: Record<string, string>, columns = 80, rows = 24) {
    const exports = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    execFileSync('tmux', ['-u', 'new-session', '-d', '-s', this.name, '-x', String(columns), '-y', String(rows), 'env', '-i', ...exports, 'bash', '--norc', '--noprofile']);
    execFileSync('tmux', ['set-option', '-t', this.name, 'history-limit', '5000']);
  }

  send(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...keys]);
  }

  /** Types text literally (no key-name lookup). */
  type(text: string): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
  }

  /** The visible screen; with `history`, the whole scrollback too. */
  capture(history = false): string {
    return execFileSync('tmux', ['capture-pane', '-t', this.name, '-p', ...(history ? ['-S', '-', '-E', '-'] : [])], { encoding: 'utf8' });
  }

  async waitFor(check: string | ((screen: string) => boolean), timeoutMs = 10_000): Promise<string> {
    const test = typeof check === 'string' ? (s: string) => s.includes(check) : check;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`tmux: timed out waiting for ${String(check)}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    spawnSync('tmux', ['kill-session', '-t', this.name]);
  }
}
