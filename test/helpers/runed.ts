import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const RUNED_BIN = join(ROOT, 'bin', 'runed');

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as-is, with this content type. */
  raw?: { contentType: string; data: string | Buffer };
  headers?: Record<string, string>;
}

/** A real runed process on a free loopback port with its own temporary data dir. */
export class Runed {
  url = '';
  private output = '';
  private exited: Promise<number | null>;

  private constructor(readonly proc: ChildProcess, readonly dataDir: string) {
    proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((res) => proc.on('exit', (code) => res(code)));
  }

  static async start(args: string[] = [], opts: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Runed> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'runed-test-'));
    const proc = spawn(process.execPath, [RUNED_BIN, '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const runed = new Runed(proc, dataDir);
    await runed.waitForLog(/runed listening on (\S+)"/, 15_000).then((m) => (runed.url = m[1]!));
    return runed;
  }

  /** Everything the daemon wrote to stdout and stderr so far. */
  get logs(): string {
    return this.output;
  }

  async waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    for (;;) {
      const m = pattern.exec(this.output);
      if (m) return m;
      if (exited || Date.now() > deadline) throw new Error(`runed did not log ${pattern}; output:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async request<T = any>(method: string, path: string, opts: RequestOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | Buffer | undefined;
    if (opts.raw) {
      headers['content-type'] = opts.raw.contentType;
      body = opts.raw.data;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(this.url + path, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // leave as text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  async bootstrap(): Promise<string> {
    const res = await this.request('POST', '/v1/bootstrap');
    if (res.status !== 201) throw new Error(`bootstrap failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.secret as string;
  }

  /** Creates a user with the given policies and a token for it; returns the bearer string. */
  async userWithToken(root: string, name: string, policies: string[], tokenFields: Record<string, unknown> = {}): Promise<string> {
    const user = await this.request('POST', '/v1/users', { token: root, body: { name, policies } });
    if (user.status !== 201 && user.status !== 200) throw new Error(`user create failed: ${JSON.stringify(user.body)}`);
    const tok = await this.request('POST', '/v1/tokens', { token: root, body: { name: `${name}-token`, subjectName: name, ...tokenFields } });
    if (tok.status !== 201) throw new Error(`token create failed: ${JSON.stringify(tok.body)}`);
    return tok.body.secret as string;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }

  async cleanup(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function runRuned(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [RUNED_BIN, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Polls `check` until it answers something truthy (that answer is returned), or fails after
 * `timeoutMs` saying what was awaited: a bounded wait for a state to change, never a fixed sleep.
 */
export async function eventually<T>(what: string | (() => string), check: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
