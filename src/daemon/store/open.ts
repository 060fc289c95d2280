import { isPostgresUrl, parsePostgresUrl } from './postgresUrl.js';
import type pg from 'pg';
import type { Engine } from './sql.js';
import { SqliteEngine } from './sqlite.js';

/** The store could not be opened (unreachable, refused, a newer schema): runed says so in one line and exits. */
export class StoreOpenError extends Error {}

export interface StoreChoice {
  dataDir: string;
  /** postgres://USER@HOST:PORT/DB, or unset for SQLite in the data dir. */
  store?: string | undefined;
  storePasswordFile?: string | undefined;
}

/** "postgres host:port/db" or "sqlite DIR": where the store is, for log lines and messages (never a password). */
export const describeStore = (choice: StoreChoice) => (isPostgresUrl(choice.store) ? `postgres ${parsePostgresUrl(choice.store).display}` : `sqlite ${choice.dataDir}`);

/**
 * Opens the configured engine and brings its schema up to date: PostgreSQL when `store` is a
 * postgres:// URL (pg loads only then), else SQLite in the data dir.
 */
export async function openEngine(choice: StoreChoice, onConnectionLost?: (e: Error) => void): Promise<Engine> {
  if (!isPostgresUrl(choice.store)) return SqliteEngine.open(choice.dataDir);
  const [{ PostgresEngine }, { ChangeFeed }, { default: Pg }] = await Promise.all([import('./postgres.js'), import('./changeFeed.js'), import('pg')]);
  let engine;
  try {
    engine = await PostgresEngine.open(choice.store, { passwordFile: choice.storePasswordFile, onIdleError: onConnectionLost });
  } catch (e) {
    throw new StoreOpenError(`cannot open the store (${describeStore(choice)}): ${(e as Error).message}`, { cause: e });
  }
  // Every write records a change for the other replicas; `runed serve` also starts listening.
  const settings = engine.pool.options as pg.ClientConfig;
  // A listening connection that stops answering is treated as lost, not waited on.
  engine.changes = new ChangeFeed({ client: () => new Pg.Client({ ...settings, query_timeout: 5000, keepAlive: true }) });
  return engine;
}
