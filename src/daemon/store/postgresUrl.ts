import { readFileSync } from 'node:fs';

/** What the store URL names: `postgres://USER@HOST:PORT/DB`, never a password. */
export interface PostgresTarget {
  user: string;
  host: string;
  port: number;
  database: string;
  /** host:port/db, for messages and logs. */
  display: string;
}

/** Parses and checks a store URL; a password in it is refused (it would show in `ps`, shells' history and logs). */
export function parsePostgresUrl(url: string): PostgresTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`store URL is not a URL: expected postgres://USER@HOST:PORT/DB`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') throw new Error(`store URL must start with postgres:// (got ${parsed.protocol}//)`);
  if (parsed.password) {
    throw new Error('store URL must not carry a password (it would show in process lists and logs): give it in PGPASSWORD or a password file (storePasswordFile / RUNE_STORE_PASSWORD_FILE)');
  }
  const user = decodeURIComponent(parsed.username);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!user) throw new Error('store URL must name the user: postgres://USER@HOST:PORT/DB');
  if (!parsed.hostname) throw new Error('store URL must name the host: postgres://USER@HOST:PORT/DB');
  if (!database || database.includes('/')) throw new Error('store URL must name one database: postgres://USER@HOST:PORT/DB');
  const port = parsed.port ? Number(parsed.port) : 5432;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { user, host, port, database, display: `${parsed.host}/${database}` };
}

/** Reads a password file: its first line, without the line end. */
export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the store password file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (!password) throw new Error(`the store password file ${path} is empty`);
  return password;
}

/** True when `store` names a PostgreSQL database rather than SQLite. */
export const isPostgresUrl = (store: string | undefined): store is string => store !== undefined && /^postgres(ql)?:\/\//.test(store);
