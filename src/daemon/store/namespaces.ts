import type { Namespace } from '../../core/wire.js';
import type { Db } from './db.js';
import { pageOf, type Page } from '../paging.js';

interface NamespaceRow {
  name: string;
  created_at: number;
}

const toNamespace = (r: NamespaceRow): Namespace => ({ name: r.name, createdAt: new Date(r.created_at).toISOString() });

export class Namespaces {
  constructor(private readonly db: Db) {}

  get(name: string): Namespace | undefined {
    const row = this.db.prepare<[string], NamespaceRow>('SELECT * FROM namespaces WHERE name = ?').get(name);
    return row && toNamespace(row);
  }

  /** Returns false when it already existed. */
  insert(name: string, now: number): boolean {
    return this.db.prepare('INSERT OR IGNORE INTO namespaces (name, created_at) VALUES (?, ?)').run(name, now).changes > 0;
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM namespaces WHERE name = ?').run(name).changes > 0;
  }

  list(page: Page) {
    const rows = page.after
      ? this.db.prepare<[string, number], NamespaceRow>('SELECT * FROM namespaces WHERE name > ? ORDER BY name LIMIT ?').all(page.after[0]!, page.limit + 1)
      : this.db.prepare<[number], NamespaceRow>('SELECT * FROM namespaces ORDER BY name LIMIT ?').all(page.limit + 1);
    return pageOf(rows, page.limit, (r) => [r.name], toNamespace);
  }
}
