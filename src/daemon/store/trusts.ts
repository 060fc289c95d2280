import { formatDuration } from '../../core/duration.js';
import { lintTrust } from '../../core/trusts.js';
import type { Trust } from '../../core/wire.js';
import { columnList, type Sql } from './sql.js';
import { pageOf, type Page } from '../paging.js';

export interface TrustRow {
  name: string;
  issuer: string;
  audience: string;
  /** JSON object: claim name → bound value. */
  claims: string;
  subject_id: string;
  ttl_ms: number;
  allow_glob: number;
  description: string;
  created_at: number;
}

type TrustWithAccount = TrustRow & { subject_name: string };

const COLUMNS = columnList<TrustRow>(
  { name: true, issuer: true, audience: true, claims: true, subject_id: true, ttl_ms: true, allow_glob: true, description: true, created_at: true },
  't',
);
const SELECT = `SELECT ${COLUMNS}, s.name AS subject_name FROM trusts t JOIN subjects s ON s.id = t.subject_id`;

export function toTrust(row: TrustWithAccount): Trust {
  const claims = JSON.parse(row.claims) as Record<string, string>;
  const trust: Trust = {
    name: row.name,
    issuer: row.issuer,
    audience: row.audience,
    claims,
    serviceAccount: row.subject_name,
    ttl: formatDuration(row.ttl_ms),
    allowGlob: row.allow_glob === 1,
    description: row.description,
    createdAt: new Date(row.created_at).toISOString(),
  };
  const warnings = lintTrust({ claims, allowGlob: trust.allowGlob });
  if (warnings.length > 0) trust.warnings = warnings;
  return trust;
}

/** Trusts (joined with their service account's name) and the replay memory of exchanged JWTs. */
export class Trusts {
  constructor(private readonly sql: Sql) {}

  get(name: string): Promise<TrustWithAccount | undefined> {
    return this.sql.get<TrustWithAccount>(`${SELECT} WHERE t.name = ?`, [name]);
  }

  async insert(row: TrustRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO trusts (name, issuer, audience, claims, subject_id, ttl_ms, allow_glob, description, created_at)
       VALUES (@name, @issuer, @audience, @claims, @subject_id, @ttl_ms, @allow_glob, @description, @created_at)`,
      row as unknown as Record<string, unknown>,
    );
  }

  async delete(name: string): Promise<boolean> {
    return (await this.sql.run('DELETE FROM trusts WHERE name = ?', [name])).changes > 0;
  }

  /** Deletes the trusts of a subject; returns their names. */
  async deleteAllOf(subjectId: string): Promise<string[]> {
    const names = (await this.sql.all<{ name: string }>('SELECT name FROM trusts WHERE subject_id = ? ORDER BY name', [subjectId])).map((r) => r.name);
    await this.sql.run('DELETE FROM trusts WHERE subject_id = ?', [subjectId]);
    return names;
  }

  async list(filter: { subjectId?: string }, page: Page) {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: page.limit + 1 };
    if (filter.subjectId !== undefined) {
      where.push('t.subject_id = @subject');
      params.subject = filter.subjectId;
    }
    if (page.after) {
      where.push('t.name > @after');
      params.after = page.after[0];
    }
    const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY t.name LIMIT @limit`;
    const rows = await this.sql.all<TrustWithAccount>(sql, params);
    return pageOf(rows, page.limit, (r) => [r.name], toTrust);
  }

  /** Remembers an exchanged JWT until it expires; false when it was seen before (a replay). Call it in a transaction. */
  async rememberExchange(key: string, expiresAt: number, now: number): Promise<boolean> {
    // One statement decides: a concurrent exchange of the same JWT (another replica) cannot also win.
    const won = await this.sql.run(
      'INSERT INTO oidc_seen (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE oidc_seen.expires_at < ?',
      [key, expiresAt, now],
    );
    return won.changes > 0;
  }

  /** Forgets exchanged JWTs that expired before `before`: they can no longer verify anyway. */
  async purgeSeen(before: number): Promise<number> {
    return (await this.sql.run('DELETE FROM oidc_seen WHERE expires_at < ?', [before])).changes;
  }
}
