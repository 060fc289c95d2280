import type { Sql } from './sql.js';

/** Small named values: the bootstrap mark, the KEK id, the audit head. */
export class Meta {
  constructor(private readonly sql: Sql) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.sql.get<{ value: string }>('SELECT value FROM meta WHERE key = ?', [key]))?.value;
  }

  async set(key: string, value: string): Promise<void> {
    await this.sql.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
  }

  /** Writes `value` unless the key has one (the first writer wins, across replicas too); returns what is stored. */
  async setIfAbsent(key: string, value: string): Promise<string> {
    await this.sql.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING', [key, value]);
    return (await this.get(key)) ?? value;
  }

  async delete(key: string): Promise<void> {
    await this.sql.run('DELETE FROM meta WHERE key = ?', [key]);
  }

  /** PostgreSQL: true when this transaction got the key's lock (held to its end), false when another holds it. */
  async tryLock(key: string): Promise<boolean> {
    return (await this.sql.get<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock(hashtext(?)) AS ok', [`meta:${key}`]))?.ok === true;
  }

  /** PostgreSQL: serialises, across replicas, the transactions that take this key (released at their end). */
  async lockKey(key: string): Promise<void> {
    await this.sql.run('SELECT pg_advisory_xact_lock(hashtext(?))', [`meta:${key}`]);
  }
}
