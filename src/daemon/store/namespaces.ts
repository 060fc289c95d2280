import type { Namespace } from '../../core/wire.js';
import { columnList, type Sql } from './sql.js';
import { pageOf, type Page } from '../paging.js';

interface NamespaceRow {
  name: string;
  created_at: number;
}

const COLUMNS = columnList<NamespaceRow>({ name: true, created_at: true });

const toNamespace = (r: NamespaceRow): Namespace => ({ name: r.name, createdAt: new Date(r.created_at).toISOString() });

export class Namespaces {
  constructor(private readonly sql: Sql) {}

  async get(name: string): Promise<Namespace | undefined> {
    const row = await this.sql.get<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE name = ?`, [name]);
    return row && toNamespace(row);
  }

  /** Returns false when it already existed. */
  async insert(name: string, now: number): Promise<boolean> {
    return (await this.sql.run('INSERT INTO namespaces (name, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING', [name, now])).changes > 0;
  }

  async delete(name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM namespaces WHERE name = ?', [name])).changes > 0;
  }

  async list(page: Page) {
    const rows = page.after
      ? await this.sql.all<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces WHERE name > ? ORDER BY name LIMIT ?`, [page.after[0]!, page.limit + 1])
      : await this.sql.all<NamespaceRow>(`SELECT ${COLUMNS} FROM namespaces ORDER BY name LIMIT ?`, [page.limit + 1]);
    return pageOf(rows, page.limit, (r) => [r.name], toNamespace);
  }
}
