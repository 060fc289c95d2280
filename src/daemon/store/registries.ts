import type { Db } from './db.js';
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
  constructor(private readonly db: Db) {}

  get(name: string): RegistryRow | undefined {
    return this.db.prepare<[string], RegistryRow>('SELECT * FROM registries WHERE name = ?').get(name);
  }

  upsert(row: RegistryRow): void {
    this.db
      .prepare(
        `INSERT INTO registries (name, server, type, username, region, sealed, wrapped_key, kek_id, created_at, updated_at)
         VALUES (@name, @server, @type, @username, @region, @sealed, @wrapped_key, @kek_id, @created_at, @updated_at)
         ON CONFLICT (name) DO UPDATE SET server = excluded.server, type = excluded.type, username = excluded.username,
           region = excluded.region, sealed = excluded.sealed, wrapped_key = excluded.wrapped_key, kek_id = excluded.kek_id,
           updated_at = excluded.updated_at`,
      )
      .run(row);
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM registries WHERE name = ?').run(name).changes > 0;
  }

  list(page: Page) {
    const rows = page.after
      ? this.db.prepare<[string, number], RegistryRow>('SELECT * FROM registries WHERE name > ? ORDER BY name LIMIT ?').all(page.after[0]!, page.limit + 1)
      : this.db.prepare<[number], RegistryRow>('SELECT * FROM registries ORDER BY name LIMIT ?').all(page.limit + 1);
    return pageOf(rows, page.limit, (r) => [r.name], toRegistry);
  }

  sealedRows(): { name: string; wrapped_key: string }[] {
    return this.db.prepare<[], { name: string; wrapped_key: string }>('SELECT name, wrapped_key FROM registries WHERE wrapped_key IS NOT NULL').all();
  }

  setWrappedKey(name: string, wrappedKey: string, kekId: string): void {
    this.db.prepare('UPDATE registries SET wrapped_key = ?, kek_id = ? WHERE name = ?').run(wrappedKey, kekId, name);
  }
}
