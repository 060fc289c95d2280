import { execFileSync, spawnSync } from 'node:child_process';

/**
 * A real terminal: a tmux session of the given size running a clean shell, on its own tmux server
 * (its own socket), so server options such as set-clipboard never leak between tests.
 */
export class Tmux {
  readonly name = `rune-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  static available(): boolean {
    return spawnSync('tmux', ['-V']).status === 0;
  }

  constructor(env: Record<string, string>, columns = 80, rows = 24) {
    const exports = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    this.tmux('-u', '-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(columns), '-y', String(rows), 'env', '-i', ...exports, 'bash', '--norc', '--noprofile');
    this.tmux('set-option', '-t', this.name, 'history-limit', '5000');
  }

  /** Runs a tmux command against this test's server. */
  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.name, ...args], { encoding: 'utf8' });
  }

  /** Keys by tmux name ("Enter", "C-s") or words; all of one call reach the pane in one write. */
  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Types text literally (no key-name lookup). */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** Pastes `text` as a terminal does: with -p, inside bracketed-paste markers when the app asked for them. */
  paste(text: string): void {
    this.tmux('set-buffer', '-b', 'rune-test', '--', text);
    this.tmux('paste-buffer', '-p', '-d', '-b', 'rune-test', '-t', this.name);
  }

  /** Copies everything the pane's programs write (raw bytes) to `file` from now on. */
  record(file: string): void {
    this.tmux('pipe-pane', '-t', this.name, `cat > '${file}'`);
  }

  /** A tmux format for the pane, e.g. "#{history_size}" or "#{alternate_on}". */
  format(fmt: string): string {
    return this.tmux('display-message', '-p', '-t', this.name, fmt).trim();
  }

  /** The visible screen; with `history`, the whole scrollback too. */
  capture(history = false): string {
    return this.tmux('capture-pane', '-t', this.name, '-p', ...(history ? ['-S', '-', '-E', '-'] : []));
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

  /** Waits until a tmux format has the value wanted. */
  async waitForFormat(fmt: string, value: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = this.format(fmt);
      if (now === value) return;
      if (Date.now() > deadline) throw new Error(`tmux: ${fmt} is ${now}, not ${value}; screen:\n${this.capture()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.name, 'kill-server']);
  }
}
