import Database from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditFilesIn, Store, type AuditFiles } from '../../src/daemon/store/index.js';
import { PostgresEngine } from '../../src/daemon/store/postgres.js';
import { SqliteEngine } from '../../src/daemon/store/sqlite.js';
import type { StoreTarget } from './runed.js';

/**
 * Direct access to a runed's database, beside the daemon, for tests that tamper with stored rows
 * or look at what is stored: the same `?` SQL on SQLite (runed.db in the data dir) and PostgreSQL.
 */
export interface TestDb {
  all<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
  get<T = any>(sql: string, params?: unknown[]): Promise<T | undefined>;
  run(sql: string, params?: unknown[]): Promise<{ changes: number }>;
  /** Everything stored, as text: the data dir's files' bytes (+ every PostgreSQL row). For "no plaintext secret" checks. */
  contents(): Promise<string>;
  close(): Promise<void>;
}

const dataDirBytes = (dir: string) =>
  readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('');

export async function openTestDb(runed: { dataDir: string; store: StoreTarget }): Promise<TestDb> {
  if (runed.store.kind === 'postgres') {
    const engine = await PostgresEngine.open(runed.store.url!, { env: runed.store.env, migrate: false, max: 2 });
    return {
      all: (sql, params = []) => engine.all(sql, params),
      get: (sql, params = []) => engine.get(sql, params),
      run: (sql, params = []) => engine.run(sql, params),
      async contents() {
        const tables = await engine.all<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'");
        const parts: string[] = [];
        for (const { name } of tables) {
          const rows = await engine.all<{ row: string }>(`SELECT t::text AS row FROM "${name.replaceAll('"', '""')}" t`);
          parts.push(...rows.map((r) => r.row));
        }
        return dataDirBytes(runed.dataDir) + parts.join('\n');
      },
      close: () => engine.close(),
    };
  }
  const db = new Database(join(runed.dataDir, 'runed.db'));
  db.pragma('busy_timeout = 5000');
  return {
    all: async (sql, params = []) => db.prepare(sql).all(...params) as any[],
    get: async (sql, params = []) => db.prepare(sql).get(...params) as any,
    run: async (sql, params = []) => ({ changes: db.prepare(sql).run(...params).changes }),
    async contents() {
      return dataDirBytes(runed.dataDir);
    },
    close: async () => void db.close(),
  };
}

/** Runs `fn` on the runed's database and closes it again. */
export async function withTestDb<T>(runed: { dataDir: string; store: StoreTarget }, fn: (db: TestDb) => Promise<T>): Promise<T> {
  const db = await openTestDb(runed);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * The store of a (stopped) runed, opened in the test process as runed opens it: on its data dir's
 * SQLite file or its PostgreSQL database. `audit` as in Store.openOn (default: the data dir's files).
 */
export async function openStoreOf(runed: { dataDir: string; store: StoreTarget }, audit: AuditFiles | false = auditFilesIn(runed.dataDir)): Promise<Store> {
  const engine = runed.store.kind === 'postgres' ? await PostgresEngine.open(runed.store.url!, { env: runed.store.env }) : SqliteEngine.open(runed.dataDir);
  return Store.openOn(engine, audit);
}
