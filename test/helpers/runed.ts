import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PostgresServer } from './postgres.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const RUNED_BIN = join(ROOT, 'bin', 'runed');

export type TestStore = 'sqlite' | 'postgres';
/** The store e2e runeds run on: PostgreSQL in the vitest project "postgres" (RUNE_TEST_STORE=postgres), else SQLite. */
export const TEST_STORE: TestStore = process.env.RUNE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

let sharedServer: Promise<PostgresServer> | undefined;

/** One real PostgreSQL per test file (started on first use); each runed gets a fresh database on it. */
export function sharedPostgres(): Promise<PostgresServer> {
  sharedServer ??= import('./postgres.js').then((m) => m.PostgresServer.start());
  return sharedServer;
}

/** Stops the file's PostgreSQL, if one was started (the postgres project's setup file calls it after all tests). */
export async function stopSharedPostgres(): Promise<void> {
  const server = sharedServer;
  sharedServer = undefined;
  if (server) await (await server).destroy();
}

/** The database of each data dir, so a runed restarted on a data dir finds its data again. */
const databaseOfDataDir = new Map<string, string>();

/** Where a runed keeps its state: the data dir always (keys), and a PostgreSQL database when it runs on one. */
export interface StoreTarget {
  kind: TestStore;
  /** postgres://… (no password), when kind is postgres. */
  url?: string;
  /** What a process needs to reach it (PGPASSWORD). */
  env: Record<string, string>;
}

/** The store for `dataDir`: its database on the shared PostgreSQL (made on first use), or SQLite in the dir. */
export async function storeFor(dataDir: string, kind: TestStore = TEST_STORE): Promise<StoreTarget> {
  if (kind === 'sqlite') return { kind, env: {} };
  const server = await sharedPostgres();
  let url = databaseOfDataDir.get(dataDir);
  if (!url) {
    url = await server.createDatabase();
    databaseOfDataDir.set(dataDir, url);
  }
  return { kind, url, env: server.env };
}

/** The flags that point a runed command at a store. */
export const storeArgs = (store: StoreTarget): string[] => (store.url ? ['--store', store.url] : []);

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

  private constructor(
    readonly proc: ChildProcess,
    readonly dataDir: string,
    readonly store: StoreTarget,
  ) {
    proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    // 'close', not 'exit': only then has everything the process wrote been read into the logs.
    this.exited = new Promise((res) => proc.on('close', (code) => res(code)));
  }

  /**
   * Starts runed on a free port. Its store is the test run's (TEST_STORE) unless `opts.store` says
   * which; on PostgreSQL each new data dir gets a fresh database, and a restart on the same data dir
   * finds the same database again.
   */
  static async start(args: string[] = [], opts: { dataDir?: string; env?: NodeJS.ProcessEnv; store?: TestStore } = {}): Promise<Runed> {
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'runed-test-'));
    const store = await storeFor(dataDir, opts.store);
    const proc = spawn(process.execPath, [RUNED_BIN, '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...storeArgs(store), ...args], {
      env: { ...process.env, ...store.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const runed = new Runed(proc, dataDir, store);
    await runed.waitForLog(/runed listening on (\S+)"/, 15_000).then((m) => (runed.url = m[1]!));
    return runed;
  }

  /** Runs a host-side command (audit verify, kek rotate, …) on this runed's data dir and store. */
  host(args: string[], env: NodeJS.ProcessEnv = {}) {
    return runRuned([...args, '--data-dir', this.dataDir, ...storeArgs(this.store)], { ...this.store.env, ...env });
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
