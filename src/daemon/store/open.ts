import { isPostgresUrl, parsePostgresUrl } from './postgresUrl.js';
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
  const { PostgresEngine } = await import('./postgres.js');
  try {
    return await PostgresEngine.open(choice.store, { passwordFile: choice.storePasswordFile, onIdleError: onConnectionLost });
  } catch (e) {
    throw new StoreOpenError(`cannot open the store (${describeStore(choice)}): ${(e as Error).message}`, { cause: e });
  }
}
