import Database from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SQLITE_MIGRATIONS } from './migrations.js';
import type { Engine, Params, Sql } from './sql.js';
import { TxContext } from './txContext.js';

export const DB_FILE = 'runed.db';

/** Creates the data dir 0700 (tightening it if it exists looser) and returns its path. */
export function prepareDataDir(dataDir: string): string {
  if (!existsSync(dataDir)) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o777;
  if (mode !== 0o700) chmodSync(dataDir, 0o700);
  return dataDir;
}

type Statement = Database.Statement<unknown[], unknown>;

/** Prepared statements of one connection, by SQL text. */
class Statements {
  private readonly cache = new Map<string, Statement>();
  constructor(readonly db: Database.Database) {}

  get(text: string): Statement {
    let stmt = this.cache.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      // Bounded: list queries vary with their filters, but not without limit.
      if (this.cache.size >= 1000) this.cache.clear();
      this.cache.set(text, stmt);
    }
    return stmt;
  }
}

const args = (params: Params | undefined): unknown[] => (params === undefined ? [] : Array.isArray(params) ? (params as unknown[]) : [params]);

/** The transaction an async context is inside; `open` goes false at its commit or rollback. */
interface TxMark {
  engine: SqliteEngine;
  open: boolean;
}

const currentTx = new TxContext<TxMark>();

/** A FIFO async lock: one writer at a time on the writer connection. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => next);
    await before;
    return release;
  }
}

/**
 * The SQLite engine: one writer connection, whose transactions (BEGIN IMMEDIATE … COMMIT) and
 * lone writes are serialised by an async mutex, and one read-only connection for reads outside a
 * transaction, so they never see another request's uncommitted writes. WAL, synchronous=FULL:
 * a write is on disk before it is acknowledged.
 */
export class SqliteEngine implements Engine {
  readonly dialect = 'sqlite' as const;
  private readonly writer: Statements;
  private readonly reader: Statements;
  private readonly mutex = new Mutex();
  private closed = false;

  private constructor(readonly file: string) {
    const writer = new Database(file);
    writer.pragma('journal_mode = WAL');
    writer.pragma('synchronous = FULL');
    writer.pragma('foreign_keys = ON');
    writer.pragma('busy_timeout = 5000');
    try {
      migrate(writer);
      const reader = new Database(file, { readonly: true });
      reader.pragma('busy_timeout = 5000');
      this.reader = new Statements(reader);
    } catch (e) {
      writer.close();
      throw e;
    }
    this.writer = new Statements(writer);
  }

  /** Opens (creating) `<dataDir>/runed.db` and brings its schema up to date; files 0600, the dir 0700. */
  static open(dataDir: string): SqliteEngine {
    prepareDataDir(dataDir);
    const file = join(dataDir, DB_FILE);
    const engine = new SqliteEngine(file);
    for (const suffix of ['', '-wal', '-shm']) {
      if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
    }
    return engine;
  }

  /** Using the engine itself inside one of its transactions is a bug (on PostgreSQL another connection, maybe a deadlock). */
  private outsideTx(what: string): void {
    if (currentTx.current()?.engine === this) {
      throw new Error(`store misuse: ${what} on the store itself inside an open transaction: use the transaction's store (tx)`);
    }
  }

  async get<T>(text: string, params?: Params): Promise<T | undefined> {
    this.outsideTx('a query');
    const stmt = this.reader.get(text);
    if (!stmt.readonly) return this.write(() => this.writer.get(text).get(...args(params)) as T | undefined);
    return stmt.get(...args(params)) as T | undefined;
  }

  async all<T>(text: string, params?: Params): Promise<T[]> {
    this.outsideTx('a query');
    const stmt = this.reader.get(text);
    if (!stmt.readonly) return this.write(() => this.writer.get(text).all(...args(params)) as T[]);
    return stmt.all(...args(params)) as T[];
  }

  async run(text: string, params?: Params): Promise<{ changes: number }> {
    this.outsideTx('a write');
    return this.write(() => ({ changes: this.writer.get(text).run(...args(params)).changes }));
  }

  /** One statement on the writer, after any transaction in progress. */
  private async write<T>(fn: () => T): Promise<T> {
    const release = await this.mutex.lock();
    try {
      return fn();
    } finally {
      release();
    }
  }

  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    this.outsideTx('a transaction');
    const release = await this.mutex.lock();
    const mark: TxMark = { engine: this, open: true };
    const db = this.writer.db;
    try {
      db.exec('BEGIN IMMEDIATE');
      const tx = new SqliteTx(this.writer, mark);
      let result: T;
      try {
        result = await currentTx.run(mark, () => fn(tx));
      } catch (e) {
        mark.open = false;
        if (db.inTransaction) db.exec('ROLLBACK');
        throw e;
      }
      mark.open = false;
      db.exec('COMMIT');
      return result;
    } finally {
      mark.open = false;
      release();
    }
  }

  /** Folds the write-ahead log back into the database file, so the next start does not pay for it. */
  async close(): Promise<void> {
    if (this.closed) return;
    const release = await this.mutex.lock();
    try {
      if (this.closed) return;
      this.closed = true;
      this.reader.db.close();
      try {
        this.writer.db.pragma('wal_checkpoint(TRUNCATE)');
      } catch {
        // another process holds the database; the next writer checkpoints instead
      }
      this.writer.db.close();
    } finally {
      release();
    }
  }
}

/** A transaction's statements: on the writer, which holds the transaction. */
class SqliteTx implements Sql {
  readonly dialect = 'sqlite' as const;
  constructor(
    private readonly writer: Statements,
    private readonly mark: TxMark,
  ) {}

  private stmt(text: string): Statement {
    if (!this.mark.open) throw new Error('store misuse: a statement on a transaction that has ended');
    return this.writer.get(text);
  }

  async get<T>(text: string, params?: Params): Promise<T | undefined> {
    return this.stmt(text).get(...args(params)) as T | undefined;
  }

  async all<T>(text: string, params?: Params): Promise<T[]> {
    return this.stmt(text).all(...args(params)) as T[];
  }

  async run(text: string, params?: Params): Promise<{ changes: number }> {
    return { changes: this.stmt(text).run(...args(params)).changes };
  }
}

/** Applies the SQLite migrations not yet applied, each in its own IMMEDIATE transaction. */
export function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const current = (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  if (current > SQLITE_MIGRATIONS.length) {
    throw new Error(`the data dir was written by a newer runed (schema ${current}, this one knows ${SQLITE_MIGRATIONS.length})`);
  }
  SQLITE_MIGRATIONS.slice(current).forEach((sql, i) => {
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(current + i + 1, Date.now());
    }).immediate();
  });
}
