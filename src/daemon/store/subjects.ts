import type { ServiceAccount, SubjectType, User } from '../../core/wire.js';
import type { Db } from './db.js';
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
const SUBJECT_MATCH = ["name", "COALESCE(email, '')", "COALESCE(namespace, '')", 'description', 'id'].map((c) => `${c} LIKE @like ESCAPE '\\'`).join(' OR ').replace(/^/, '(').concat(')');

export class Subjects {
  private readonly byName;
  private readonly byId;
  private readonly policiesOf;
  private readonly attachStmt;
  private readonly detachStmt;

  constructor(private readonly db: Db) {
    this.byName = db.prepare<[string], SubjectRow>('SELECT * FROM subjects WHERE name = ?');
    this.byId = db.prepare<[string], SubjectRow>('SELECT * FROM subjects WHERE id = ?');
    this.policiesOf = db.prepare<[string], { policy: string }>(
      'SELECT policy FROM subject_policies WHERE subject_id = ? ORDER BY policy',
    );
    this.attachStmt = db.prepare('INSERT OR IGNORE INTO subject_policies (subject_id, policy) VALUES (?, ?)');
    this.detachStmt = db.prepare('DELETE FROM subject_policies WHERE subject_id = ? AND policy = ?');
  }

  getByName(name: string): SubjectRow | undefined {
    return this.byName.get(name);
  }

  getById(id: string): SubjectRow | undefined {
    return this.byId.get(id);
  }

  policyNames(subjectId: string): string[] {
    return this.policiesOf.all(subjectId).map((r) => r.policy);
  }

  insert(row: SubjectRow): void {
    this.db
      .prepare(
        `INSERT INTO subjects (id, name, type, email, namespace, permissions, description, derived_policies, created_at, updated_at)
         VALUES (@id, @name, @type, @email, @namespace, @permissions, @description, @derived_policies, @created_at, @updated_at)`,
      )
      .run(row);
  }

  updateEmail(id: string, email: string | null, now: number): void {
    this.db.prepare('UPDATE subjects SET email = ?, updated_at = ? WHERE id = ?').run(email, now, id);
  }

  touch(id: string, now: number): void {
    this.db.prepare('UPDATE subjects SET updated_at = ? WHERE id = ?').run(now, id);
  }

  /** Returns true when the policy was not attached before. */
  attach(subjectId: string, policy: string): boolean {
    return this.attachStmt.run(subjectId, policy).changes > 0;
  }

  /** Returns true when the policy was attached. */
  detach(subjectId: string, policy: string): boolean {
    return this.detachStmt.run(subjectId, policy).changes > 0;
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM subjects WHERE id = ?').run(id);
  }

  /** A page of one type in `sort` order; `search` matches name, email, namespace, description or id. */
  private listOf<T>(type: SubjectType, page: Page, opts: ListOptions, toItem: (row: SubjectRow) => T) {
    const sort = opts.sort ?? DEFAULT_SUBJECT_SORT;
    const params: Record<string, unknown> = { type, limit: page.limit + 1 };
    const where = ['type = @type'];
    if (opts.search !== undefined) {
      where.push(SUBJECT_MATCH);
      params.like = likePattern(opts.search);
    }
    const paging = sortedPaging(sort, page, params);
    const total = page.after ? undefined : this.db.prepare<[Record<string, unknown>], { n: number }>(`SELECT COUNT(*) AS n FROM subjects WHERE ${where.join(' AND ')}`).get(params)!.n;
    if (paging.after) where.push(paging.after);
    const rows = this.db
      .prepare<[Record<string, unknown>], SubjectRow & { sort_key: string | number }>(`SELECT *, ${sort.expr} AS sort_key FROM subjects WHERE ${where.join(' AND ')} ${paging.order} LIMIT @limit`)
      .all(params);
    const result: { items: T[]; nextCursor?: string; total?: number } = pageOf(rows, page.limit, paging.key, toItem);
    if (total !== undefined) result.total = total;
    return result;
  }

  listUsers(page: Page, opts: ListOptions = {}) {
    return this.listOf('user', page, opts, (r) => this.toUser(r));
  }

  listServiceAccounts(page: Page, opts: ListOptions = {}) {
    return this.listOf('service', page, opts, (r) => this.toServiceAccount(r));
  }

  toServiceAccount(row: SubjectRow): ServiceAccount {
    const sa: ServiceAccount = {
      id: row.id,
      name: row.name,
      permissions: JSON.parse(row.permissions ?? '[]') as string[],
      description: row.description,
      policies: this.policyNames(row.id),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
    if (row.namespace) sa.namespace = row.namespace;
    return sa;
  }

  /** How many subjects hold `policy`. */
  holderCount(policy: string): number {
    return (this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM subject_policies WHERE policy = ?').get(policy))!.n;
  }

  /** Names of subjects a policy is attached to, with their type. */
  holdersOf(policy: string): { name: string; type: SubjectType }[] {
    return this.db
      .prepare<[string], { name: string; type: SubjectType }>(
        'SELECT s.name, s.type FROM subject_policies sp JOIN subjects s ON s.id = sp.subject_id WHERE sp.policy = ? ORDER BY s.name',
      )
      .all(policy);
  }

  toUser(row: SubjectRow): User {
    const user: User = {
      id: row.id,
      name: row.name,
      policies: this.policyNames(row.id),
      createdAt: iso(row.created_at),
      updatedAt: iso(row.updated_at),
    };
    if (row.email) user.email = row.email;
    return user;
  }
}
