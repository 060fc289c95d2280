import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './runed.js';

export const RUNE_BIN = join(ROOT, 'bin', 'rune');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `rune` binary in its own HOME (so ~/.rune is private to the test) and cwd. */
export class Cli {
  readonly home = mkdtempSync(join(tmpdir(), 'rune-home-'));

  constructor(readonly env: NodeJS.ProcessEnv = {}) {}

  run(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): CliResult {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: this.home, ...this.env, ...opts.env };
    const r = spawnSync(process.execPath, [RUNE_BIN, ...args], { cwd: this.home, env, encoding: 'utf8', input: opts.input ?? '' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like run, without blocking this process: for tests whose servers (an OIDC issuer, say) live in it. */
  runAsync(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: this.home, ...this.env, ...opts.env };
    const child = spawn(process.execPath, [RUNE_BIN, ...args], { cwd: this.home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  }

  /** Runs and expects exit 0, returning stdout. */
  ok(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
    const r = this.run(args, opts);
    if (r.status !== 0) throw new Error(`rune ${args.join(' ')} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }
}
