import { columnList, type Sql } from './sql.js';
import { pageOf, type Page } from '../paging.js';

import type { Registry, RegistryType } from '../../core/wire.js';

export type { Registry, RegistryType };

export interface RegistryRow {
  name: string;
  server: string;
  type: RegistryType;
  username: string | null;
  region: string | null;
  sealed: string | null;
  wrapped_key: string | null;
  kek_id: string | null;
  created_at: number;
  updated_at: number;
}

const COLUMNS = columnList<RegistryRow>({
  name: true,
  server: true,
  type: true,
  username: true,
  region: true,
  sealed: true,
  wrapped_key: true,
  kek_id: true,
  created_at: true,
  updated_at: true,
});

export function toRegistry(row: RegistryRow): Registry {
  const r: Registry = {
    name: row.name,
    server: row.server,
    type: row.type,
    hasPassword: row.sealed !== null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.username !== null) r.username = row.username;
  if (row.region !== null) r.region = row.region;
  return r;
}

export class Registries {
  constructor(private readonly sql: Sql) {}

  get(name: string): Promise<RegistryRow | undefined> {
    return this.sql.get<RegistryRow>(`SELECT ${COLUMNS} FROM registries WHERE name = ?`, [name]);
  }

  async upsert(row: RegistryRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO registries (name, server, type, username, region, sealed, wrapped_key, kek_id, created_at, updated_at)
       VALUES (@name, @server, @type, @username, @region, @sealed, @wrapped_key, @kek_id, @created_at, @updated_at)
       ON CONFLICT (name) DO UPDATE SET server = excluded.server, type = excluded.type, username = excluded.username,
         region = excluded.region, sealed = excluded.sealed, wrapped_key = excluded.wrapped_key, kek_id = excluded.kek_id,
         updated_at = excluded.updated_at`,
      row as unknown as Record<string, unknown>,
    );
  }

  async delete(name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM registries WHERE name = ?', [name])).changes > 0;
  }

  async list(page: Page) {
    const rows = page.after
      ? await this.sql.all<RegistryRow>(`SELECT ${COLUMNS} FROM registries WHERE name > ? ORDER BY name LIMIT ?`, [page.after[0]!, page.limit + 1])
      : await this.sql.all<RegistryRow>(`SELECT ${COLUMNS} FROM registries ORDER BY name LIMIT ?`, [page.limit + 1]);
    return pageOf(rows, page.limit, (r) => [r.name], toRegistry);
  }

  sealedRows(): Promise<{ name: string; wrapped_key: string }[]> {
    return this.sql.all<{ name: string; wrapped_key: string }>('SELECT name, wrapped_key FROM registries WHERE wrapped_key IS NOT NULL');
  }

  async setWrappedKey(name: string, wrappedKey: string, kekId: string): Promise<void> {
    await this.sql.run('UPDATE registries SET wrapped_key = ?, kek_id = ? WHERE name = ?', [wrappedKey, kekId, name]);
  }
}
