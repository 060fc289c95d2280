import type { ServiceAccount, SubjectType, User } from '../../core/wire.js';
import { likeOp } from './dialect.js';
import { columnList, type Dialect, type Sql } from './sql.js';
import { likePattern, pageOf, sortedPaging, type Page, type SortColumns, type Sorted } from '../paging.js';

export interface SubjectRow {
  id: string;
  name: string;
  type: SubjectType;
  email: string | null;
  namespace: string | null;
  permissions: string | null;
  description: string;
  /** JSON list of the policies created for this service account, removed with it. */
  derived_policies: string;
  created_at: number;
  updated_at: number;
}

const COLUMNS = columnList<SubjectRow>({
  id: true,
  name: true,
  type: true,
  email: true,
  namespace: true,
  permissions: true,
  description: true,
  derived_policies: true,
  created_at: true,
  updated_at: true,
});

const iso = (ms: number) => new Date(ms).toISOString();

export interface ListOptions {
  search?: string | undefined;
  sort?: Sorted | undefined;
}

/** `?sort=` of GET /v1/users and /v1/serviceaccounts (indexes: subjects_by_type_name, subjects_by_type_created). */
export const SUBJECT_SORTS: SortColumns = {
  name: { expr: 'name', numeric: false },
  created: { expr: 'created_at', numeric: true },
};
const DEFAULT_SUBJECT_SORT: Sorted = { token: 'name', expr: 'name', desc: false, numeric: false };
const subjectMatch = (dialect: Dialect) => `(${["name", "COALESCE(email, '')", "COALESCE(namespace, '')", 'description', 'id'].map((c) => `${c} ${likeOp(dialect)} @like ESCAPE '\\'`).join(' OR ')})`;

export class Subjects {
  constructor(private readonly sql: Sql) {}

  getByName(name: string): Promise<SubjectRow | undefined> {
    return this.sql.get<SubjectRow>(`SELECT ${COLUMNS} FROM subjects WHERE name = ?`, [name]);
  }

  getById(id: string): Promise<SubjectRow | undefined> {
    return this.sql.get<SubjectRow>(`SELECT ${COLUMNS} FROM subjects WHERE id = ?`, [id]);
  }

  async policyNames(subjectId: string): Promise<string[]> {
    return (await this.sql.all<{ policy: string }>('SELECT policy FROM subject_policies WHERE subject_id = ? ORDER BY policy', [subjectId])).map((r) => r.policy);
  }

  async insert(row: SubjectRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO subjects (id, name, type, email, namespace, permissions, description, derived_policies, created_at, updated_at)
       VALUES (@id, @name, @type, @email, @namespace, @permissions, @description, @derived_policies, @created_at, @updated_at)`,
      row as unknown as Record<string, unknown>,
    );
  }

  async updateEmail(id: string, email: string | null, now: number): Promise<void> {
    await this.sql.run('UPDATE subjects SET email = ?, updated_at = ? WHERE id = ?', [email, now, id]);
  }

  async touch(id: string, now: number): Promise<void> {
    await this.sql.run('UPDATE subjects SET updated_at = ? WHERE id = ?', [now, id]);
  }

  /** Returns true when the policy was not attached before. */
  async attach(subjectId: string, policy: string): Promise<boolean> {
    return (await this.sql.run('INSERT INTO subject_policies (subject_id, policy) VALUES (?, ?) ON CONFLICT DO NOTHING', [subjectId, policy])).changes > 0;
  }

  /** Returns true when the policy was attached. */
  async detach(subjectId: string, policy: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM subject_policies WHERE subject_id = ? AND policy = ?', [subjectId, policy])).changes > 0;
  }

  async delete(id: string): Promise<void> {
    await this.sql.run('DELETE FROM subjects WHERE id = ?', [id]);
  }

  /** A page of one type in `sort` order; `search` matches name, email, namespace, description or id. */
  private async listOf<T>(type: SubjectType, page: Page, opts: ListOptions, toItem: (row: SubjectRow) => Promise<T>) {
    const sort = opts.sort ?? DEFAULT_SUBJECT_SORT;
    const params: Record<string, unknown> = { type, limit: page.limit + 1 };
    const where = ['type = @type'];
    if (opts.search !== undefined) {
      where.push(subjectMatch(this.sql.dialect));
      params.like = likePattern(opts.search);
    }
    const paging = sortedPaging(sort, page, params);
    const total = page.after ? undefined : (await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM subjects WHERE ${where.join(' AND ')}`, params))!.n;
    if (paging.after) where.push(paging.after);
    const rows = await this.sql.all<SubjectRow & { sort_key: string | number }>(`SELECT ${COLUMNS}, ${sort.expr} AS sort_key FROM subjects WHERE ${where.join(' AND ')} ${paging.order} LIMIT @limit`, params);
    const items = new Map<SubjectRow, T>();
    for (const row of rows.slice(0, page.limit)) items.set(row, await toItem(row));
    const result: { items: T[]; nextCursor?: string; total?: number } = pageOf(rows, page.limit, paging.key, (r) => items.get(r)!);
    if (total !== undefined) result.total = total;
    return result;
  }

  listUsers(page: Page, opts: ListOptions = {}) {
    return this.listOf('user', page, opts, (r) => this.toUser(r));
  }

  listServiceAccounts(page: Page, opts: ListOptions = {}) {
    return this.listOf('service', page, opts, (r) => this.toServiceAccount(r));
  }

  async toServiceAccount(row: SubjectRow): Promise<ServiceAccount> {
    const sa: ServiceAccount = {
      id: row.id,
      name: row.name,
      permissions: JSON.parse(row.permissions ?? '[]') as string[],
      description: row.description,
      policies: await this.policyNames(row.id),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
    if (row.namespace) sa.namespace = row.namespace;
    return sa;
  }

  /** How many subjects hold `policy`. */
  async holderCount(policy: string): Promise<number> {
    return (await this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM subject_policies WHERE policy = ?', [policy]))!.n;
  }

  /** Names of subjects a policy is attached to, with their type. */
  holdersOf(policy: string): Promise<{ name: string; type: SubjectType }[]> {
    return this.sql.all<{ name: string; type: SubjectType }>(
      'SELECT s.name, s.type FROM subject_policies sp JOIN subjects s ON s.id = sp.subject_id WHERE sp.policy = ? ORDER BY s.name',
      [policy],
    );
  }

  async toUser(row: SubjectRow): Promise<User> {
    const user: User = {
      id: row.id,
      name: row.name,
      policies: await this.policyNames(row.id),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
    if (row.email) user.email = row.email;
    return user;
  }
}
