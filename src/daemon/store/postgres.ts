import pg from 'pg';
import { invalid } from '../../core/errors.js';
import { POSTGRES_MIGRATIONS, type PostgresMigration } from './postgresMigrations.js';
import { parsePostgresUrl, readPasswordFile, type PostgresTarget } from './postgresUrl.js';
import type { ChangeSource, Engine, Params, Sql } from './sql.js';
import { TxContext } from './txContext.js';

export { parsePostgresUrl, readPasswordFile, type PostgresTarget } from './postgresUrl.js';

/** A statement's text rewritten for PostgreSQL, and how to bind its parameters. */
export interface PostgresStatement {
  text: string;
  /** Named placeholders in `$n` order; undefined when the text uses `?`. */
  names?: string[];
  /** How many parameters the statement takes. */
  count: number;
}

const isIdentStart = (c: string | undefined) => c !== undefined && /[A-Za-z_]/.test(c);
const isIdentPart = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/**
 * Rewrites `?` and `@name` placeholders to `$n`, leaving string literals, quoted identifiers,
 * dollar-quoted strings and comments as they are. A name used twice binds one `$n`.
 */
export function toPostgresPlaceholders(sql: string): PostgresStatement {
  let out = '';
  let positional = 0;
  const names: string[] = [];
  const indexOfName = new Map<string, number>();
  let i = 0;
  const copyUntil = (end: number) => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'") {
      // E'…' strings take backslash escapes; standard strings only double their quotes.
      const escapes = i > 0 && /[Ee]/.test(sql[i - 1]!) && !isIdentPart(sql[i - 2]);
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) throw new Error(`unterminated string literal in SQL: ${sql.slice(i, i + 40)}`);
        if (escapes && sql[j] === '\\') j += 2;
        else if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      copyUntil(j + 1);
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quoted identifier in SQL: ${sql.slice(i, i + 40)}`);
      copyUntil(end + 1);
    } else if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      copyUntil(end < 0 ? sql.length : end);
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw new Error('unterminated comment in SQL');
      copyUntil(end + 2);
    } else if (c === '$' && !isIdentPart(sql[i - 1])) {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        if (end < 0) throw new Error(`unterminated dollar-quoted string in SQL: ${sql.slice(i, i + 40)}`);
        copyUntil(end + tag[0].length);
      } else if (/[0-9]/.test(next ?? '')) {
        throw new Error(`SQL must use ? or @name placeholders, not $n: ${sql.slice(0, 80)}`);
      } else copyUntil(i + 1);
    } else if (c === '?') {
      if (names.length) throw new Error(`SQL mixes ? and @name placeholders: ${sql.slice(0, 80)}`);
      out += `$${++positional}`;
      i++;
    } else if (c === '@' && isIdentStart(next)) {
      if (positional) throw new Error(`SQL mixes ? and @name placeholders: ${sql.slice(0, 80)}`);
      let j = i + 1;
      while (isIdentPart(sql[j])) j++;
      const name = sql.slice(i + 1, j);
      let n = indexOfName.get(name);
      if (n === undefined) {
        names.push(name);
        n = names.length;
        indexOfName.set(name, n);
      }
      out += `$${n}`;
      i = j;
    } else if (isIdentPart(c)) {
      // A whole word at once: a `$` or `'` right after it belongs to the word (a$1, e'…' is seen by the quote branch).
      let j = i + 1;
      while (isIdentPart(sql[j])) j++;
      copyUntil(j);
    } else {
      copyUntil(i + 1);
    }
  }
  return names.length ? { text: out, names, count: names.length } : { text: out, count: positional };
}

/** The values for a statement's `$n`, in order; a missing or undefined value is an error, as on SQLite. */
export function bindParams(stmt: PostgresStatement, params: Params | undefined, sqlText: string): unknown[] {
  // A statement without placeholders ignores whatever it is given, as better-sqlite3 does (a list builds one params object for all its queries).
  if (stmt.count === 0 && (params === undefined || !Array.isArray(params) || params.length === 0)) return [];
  if (stmt.names) {
    if (params === undefined || Array.isArray(params)) throw new Error(`SQL takes named parameters (@${stmt.names[0]}), got ${params === undefined ? 'none' : 'a list'}: ${sqlText.slice(0, 80)}`);
    const named = params as Record<string, unknown>;
    return stmt.names.map((name) => {
      const value = named[name];
      if (value === undefined) throw new Error(`missing SQL parameter @${name}: ${sqlText.slice(0, 80)}`);
      return value;
    });
  }
  const list = (params ?? []) as readonly unknown[];
  if (!Array.isArray(list)) throw new Error(`SQL takes ${stmt.count} positional parameters (?), got named ones: ${sqlText.slice(0, 80)}`);
  if (list.length !== stmt.count) throw new Error(`SQL takes ${stmt.count} parameters, got ${list.length}: ${sqlText.slice(0, 80)}`);
  list.forEach((v, i) => {
    if (v === undefined) throw new Error(`SQL parameter ${i + 1} is undefined: ${sqlText.slice(0, 80)}`);
  });
  return [...list];
}

/** int8 (times in ms, ids, counts) as a JS number; a value past 2^53 would be silently wrong, so it is an error. */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`PostgreSQL returned ${text}, beyond what a JS number holds exactly`);
  return n;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return parseInt8;
    if (oid === NUMERIC_OID) return Number;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** The database could not be reached (refused, cut, shutting down): the caller should answer 503, not 500. */
export class StoreUnavailableError extends Error {
  readonly unavailable = true;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** True for failures that say the server is gone rather than that the statement is wrong. */
export function isConnectionFailure(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03')) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e.message);
}

/**
 * PostgreSQL re-plans a prepared statement when a table it reads changes; if the rows it answers
 * changed shape (a column's type altered by a newer replica's migration), the statement fails
 * with this until it is prepared again.
 */
const planChanged = (e: unknown) =>
  // By the routine that raised it: the message is translated on a server with another lc_messages.
  e instanceof pg.DatabaseError && e.code === '0A000' && (e.routine === 'RevalidateCachedQuery' || /cached plan must not change result type/.test(e.message));

/** One error type per failure, naming the statement, so a log line says what failed and why. */
function describeFailure(e: unknown, text: string, where: string): Error {
  // PostgreSQL text cannot hold U+0000 (SQLite's can): the request's text is at fault, not the server.
  if (e instanceof pg.DatabaseError && e.code === '22021' && /0x00/.test(e.message)) return invalid('text containing a NUL character (\\u0000) is not accepted');
  if (isConnectionFailure(e)) return new StoreUnavailableError(`PostgreSQL at ${where} is unreachable: ${(e as Error).message}`, { cause: e });
  if (e instanceof pg.DatabaseError) {
    const detail = e.detail ? ` (${e.detail})` : '';
    const err = new Error(`PostgreSQL: ${e.message}${detail} [SQLSTATE ${e.code}] in: ${text.replace(/\s+/g, ' ').trim().slice(0, 200)}`, { cause: e });
    (err as Error & { code?: string }).code = e.code;
    return err;
  }
  return e instanceof Error ? e : new Error(String(e));
}

export interface PostgresOptions {
  /** A file holding the password; otherwise PGPASSWORD (or libpq's ~/.pgpass / PGPASSFILE). */
  passwordFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Pool size (default 10). */
  max?: number;
  /** How long a statement waits for a connection before failing (default 5 s). */
  connectTimeoutMs?: number;
  /** Called with errors of idle connections (the server went away), which would otherwise crash the process. */
  onIdleError?: (e: Error) => void;
  /** Apply migrations on open (default true). */
  migrate?: boolean;
}

/** Key of the session advisory lock held while migrating ("rune" in ASCII): one migrator per database. */
export const MIGRATION_LOCK = 0x72756e65;

interface TxState {
  open: boolean;
}

/** What a PostgresSql needs from its engine. */
interface EngineParts {
  readonly pool: pg.Pool;
  readonly target: PostgresTarget;
  statement(text: string): PostgresStatement & { name: string };
  /** Drops the statement `name` made for `text` (not a newer one): the next use prepares it afresh, under a new name. */
  forget(text: string, name: string): void;
  currentTransaction(): TxState | undefined;
}

/** Statements run through one client (a transaction's) or the pool. */
class PostgresSql implements Sql {
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly engine: EngineParts,
    private readonly client: pg.PoolClient | undefined,
    private readonly state: TxState | undefined,
  ) {}

  private async query(text: string, params: Params | undefined): Promise<pg.QueryResult> {
    if (this.state && !this.state.open) throw new Error(`a statement ran on a transaction that has already ended: ${text.slice(0, 80)}`);
    // On PostgreSQL a pool statement inside a transaction runs on another connection, and can wait on the transaction's locks forever.
    if (!this.state && this.engine.currentTransaction()) {
      throw new Error(`store misuse: a statement ran on the store while a transaction is open in the same task: use the transaction's store (tx), not ctx.store: ${text.slice(0, 80)}`);
    }
    const stmt = this.engine.statement(text);
    try {
      return await this.send(stmt, params, text);
    } catch (e) {
      if (!planChanged(e)) throw describeFailure(e, text, this.engine.target.display);
      this.engine.forget(text, stmt.name);
      // In a transaction the failure has aborted it: it fails, and the next one prepares afresh.
      if (this.client) throw describeFailure(e, text, this.engine.target.display);
      try {
        return await this.send(this.engine.statement(text), params, text);
      } catch (again) {
        throw describeFailure(again, text, this.engine.target.display);
      }
    }
  }

  private send(stmt: PostgresStatement & { name: string }, params: Params | undefined, text: string): Promise<pg.QueryResult> {
    const values = bindParams(stmt, params, text);
    const config: pg.QueryConfig = { text: stmt.text, values, name: stmt.name };
    return this.client ? this.client.query(config) : this.engine.pool.query(config);
  }

  async get<T>(text: string, params?: Params): Promise<T | undefined> {
    return (await this.query(text, params)).rows[0] as T | undefined;
  }

  async all<T>(text: string, params?: Params): Promise<T[]> {
    return (await this.query(text, params)).rows as T[];
  }

  async run(text: string, params?: Params): Promise<{ changes: number }> {
    return { changes: (await this.query(text, params)).rowCount ?? 0 };
  }

  /** A transaction inside a transaction just runs in it. */
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return fn(this);
  }
}

/** The PostgreSQL engine: a pg.Pool; a transaction holds one client from BEGIN to COMMIT. */
export class PostgresEngine implements Engine, EngineParts {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  /** How this replica learns of the others' writes (set by openEngine). */
  changes?: ChangeSource;
  private readonly statements = new Map<string, PostgresStatement & { name: string }>();
  private prepared = 0;
  private readonly transactions = new TxContext<TxState>();
  private readonly direct: PostgresSql;
  private closed = false;

  private constructor(
    readonly target: PostgresTarget,
    password: string | undefined,
    opts: PostgresOptions,
  ) {
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(password !== undefined ? { password } : {}),
      max: opts.max ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      // Statement names never repeat, so a connection keeps every statement it prepared (and the
      // server its plans): a connection is replaced after an hour, even under steady load.
      maxLifetimeSeconds: 3600,
      keepAlive: true,
      application_name: 'runed',
      types: typeParsers,
    });
    this.pool.on('error', (e) => opts.onIdleError?.(e));
    this.direct = new PostgresSql(this, undefined, undefined);
  }

  /**
   * Connects to `url` (postgres://USER@HOST:PORT/DB), checks that the server answers and brings the
   * schema up to date. The password comes from `passwordFile`, else PGPASSWORD, else libpq's pgpass.
   */
  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresEngine> {
    const target = parsePostgresUrl(url);
    const env = opts.env ?? process.env;
    const password = opts.passwordFile ? readPasswordFile(opts.passwordFile) : env.PGPASSWORD || undefined;
    const engine = new PostgresEngine(target, password, opts);
    try {
      if (opts.migrate !== false) await engine.migrate();
      else await engine.get('SELECT 1 AS ok');
    } catch (e) {
      await engine.close();
      throw e;
    }
    return engine;
  }

  get<T>(text: string, params?: Params): Promise<T | undefined> {
    return this.direct.get<T>(text, params);
  }

  all<T>(text: string, params?: Params): Promise<T[]> {
    return this.direct.all<T>(text, params);
  }

  run(text: string, params?: Params): Promise<{ changes: number }> {
    return this.direct.run(text, params);
  }

  /** The rewritten statement for `text`, made once per text (and prepared once per connection, by name). */
  statement(text: string): PostgresStatement & { name: string } {
    let stmt = this.statements.get(text);
    if (!stmt) {
      // Bounded: list queries vary with their filters, but not without limit. Names never repeat (a connection keeps what it prepared).
      if (this.statements.size >= 1000) this.statements.clear();
      stmt = { ...toPostgresPlaceholders(text), name: `rune_${++this.prepared}` };
      this.statements.set(text, stmt);
    }
    return stmt;
  }

  forget(text: string, name: string): void {
    // Requests that failed together forget it once: a retry's fresh statement is kept.
    if (this.statements.get(text)?.name === name) this.statements.delete(text);
  }

  /** The transaction open in the calling async task, if any. */
  currentTransaction(): TxState | undefined {
    return this.transactions.current();
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.currentTransaction()) throw new Error("store misuse: a transaction was started on the store inside another one: use the transaction's store (tx)");
    const client = await this.checkout('BEGIN');
    const state: TxState = { open: true };
    let broken: Error | undefined;
    // A checked-out client has no pool listener: a connection lost between statements would otherwise crash runed.
    const onLost = (e: Error) => (broken = e);
    client.on('error', onLost);
    try {
      try {
        await client.query('BEGIN');
      } catch (e) {
        broken = e as Error;
        throw describeFailure(e, 'BEGIN', this.target.display);
      }
      let result: T;
      try {
        result = await this.transactions.run(state, () => fn(new PostgresSql(this, client, state)));
      } catch (e) {
        state.open = false;
        // A connection that cannot roll back is not given back to the pool.
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw e;
      }
      state.open = false;
      try {
        await client.query('COMMIT');
      } catch (e) {
        broken = e as Error;
        throw describeFailure(e, 'COMMIT', this.target.display);
      }
      return result;
    } finally {
      state.open = false;
      client.removeListener('error', onLost);
      client.release(broken);
    }
  }

  private async checkout(what: string): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw describeFailure(e, what, this.target.display);
    }
  }

  /** Applies the migrations this runed knows and the database lacks, once, under a session advisory lock. */
  async migrate(migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS): Promise<number> {
    const client = await this.checkout('migrate');
    let broken: Error | undefined;
    const onLost = (e: Error) => (broken = e);
    client.on('error', onLost);
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
        const current = Number((await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')).rows[0]?.v ?? 0);
        if (current > migrations.length) {
          throw new Error(`the database was written by a newer runed (schema ${current}, this one knows ${migrations.length})`);
        }
        for (let version = current + 1; version <= migrations.length; version++) {
          await client.query('BEGIN');
          try {
            const migration = migrations[version - 1]!;
            if (typeof migration === 'string') await client.query(migration);
            else await migration(client);
            await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [version, Date.now()]);
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw new Error(`PostgreSQL migration ${version} failed: ${(e as Error).message}`, { cause: e });
          }
        }
        return migrations.length - current;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch((e: Error) => (broken = e));
      }
    } catch (e) {
      if (isConnectionFailure(e)) broken = e as Error;
      throw e instanceof Error && e.message.startsWith('PostgreSQL migration') ? e : describeFailure(e, 'migrate', this.target.display);
    } finally {
      client.removeListener('error', onLost);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.changes?.stop();
    await this.pool.end();
  }
}
