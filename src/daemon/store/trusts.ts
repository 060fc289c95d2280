import { formatDuration } from '../../core/duration.js';
import { lintTrust } from '../../core/trusts.js';
import type { Trust } from '../../core/wire.js';
import type { Db } from './db.js';
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

const SELECT = 'SELECT t.*, s.name AS subject_name FROM trusts t JOIN subjects s ON s.id = t.subject_id';

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
  constructor(private readonly db: Db) {}

  get(name: string): TrustWithAccount | undefined {
    return this.db.prepare<[string], TrustWithAccount>(`${SELECT} WHERE t.name = ?`).get(name);
  }

  insert(row: TrustRow): void {
    this.db
      .prepare(
        `INSERT INTO trusts (name, issuer, audience, claims, subject_id, ttl_ms, allow_glob, description, created_at)
         VALUES (@name, @issuer, @audience, @claims, @subject_id, @ttl_ms, @allow_glob, @description, @created_at)`,
      )
      .run(row);
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM trusts WHERE name = ?').run(name).changes > 0;
  }

  /** Deletes the trusts of a subject; returns their names. */
  deleteAllOf(subjectId: string): string[] {
    const names = this.db.prepare<[string], { name: string }>('SELECT name FROM trusts WHERE subject_id = ? ORDER BY name').all(subjectId).map((r) => r.name);
    this.db.prepare('DELETE FROM trusts WHERE subject_id = ?').run(subjectId);
    return names;
  }

  list(filter: { subjectId?: string }, page: Page) {
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
    const rows = this.db.prepare<[Record<string, unknown>], TrustWithAccount>(sql).all(params);
    return pageOf(rows, page.limit, (r) => [r.name], toTrust);
  }

  /** Remembers an exchanged JWT until it expires; false when it was seen before (a replay). */
  rememberExchange(key: string, expiresAt: number, now: number): boolean {
    const seen = this.db.prepare<[string], { expires_at: number }>('SELECT expires_at FROM oidc_seen WHERE key = ?').get(key);
    if (seen && seen.expires_at >= now) return false;
    this.db.prepare('INSERT INTO oidc_seen (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at').run(key, expiresAt);
    return true;
  }

  /** Forgets exchanged JWTs that expired before `before`: they can no longer verify anyway. */
  purgeSeen(before: number): number {
    return this.db.prepare('DELETE FROM oidc_seen WHERE expires_at < ?').run(before).changes;
  }
}
