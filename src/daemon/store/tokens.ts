import type { SubjectType, Token, TokenKind, TokenStatus } from '../../core/wire.js';
import type { Db } from './db.js';
import { pageOf, type Page } from '../paging.js';

export interface TokenRow {
  id: string;
  name: string;
  subject_id: string;
  subject_name: string;
  subject_type: SubjectType;
  policies: string;
  description: string;
  kind: TokenKind;
  secret_hash: string;
  created_at: number;
  expires_at: number | null;
  enabled: number;
  revoked_at: number | null;
  last_used_at: number | null;
  /** The subject that disabled the token, while it is disabled. */
  disabled_by: string | null;
}

export function tokenStatus(row: TokenRow, now: number): TokenStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  if (row.enabled !== 1) return 'disabled';
  return 'active';
}

export function toToken(row: TokenRow, now = Date.now()): Token {
  const token: Token = {
    id: row.id,
    name: row.name,
    subjectId: row.subject_id,
    subjectName: row.subject_name,
    subjectType: row.subject_type,
    policies: JSON.parse(row.policies) as string[],
    description: row.description,
    kind: row.kind,
    createdAt: new Date(row.created_at).toISOString(),
    enabled: row.enabled === 1,
    status: tokenStatus(row, now),
  };
  if (row.expires_at !== null) token.expiresAt = new Date(row.expires_at).toISOString();
  if (row.revoked_at !== null) token.revokedAt = new Date(row.revoked_at).toISOString();
  if (row.last_used_at !== null) token.lastUsedAt = new Date(row.last_used_at).toISOString();
  return token;
}

/** SQL for each status, with `@now` bound; kept beside tokenStatus so the two agree. */
const STATUS_SQL: Record<TokenStatus, string> = {
  revoked: 'revoked_at IS NOT NULL',
  expired: 'revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= @now',
  disabled: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now) AND enabled = 0',
  active: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now) AND enabled = 1',
};

export interface TokenFilter {
  subjectId?: string;
  status?: TokenStatus;
}

export class Tokens {
  private readonly byId;
  private readonly touchStmt;

  constructor(private readonly db: Db) {
    this.byId = db.prepare<[string], TokenRow>('SELECT * FROM tokens WHERE id = ?');
    this.touchStmt = db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?');
  }

  get(id: string): TokenRow | undefined {
    return this.byId.get(id);
  }

  insert(row: TokenRow): void {
    this.db
      .prepare(
        `INSERT INTO tokens (id, name, subject_id, subject_name, subject_type, policies, description, kind, secret_hash,
                             created_at, expires_at, enabled, revoked_at, last_used_at)
         VALUES (@id, @name, @subject_id, @subject_name, @subject_type, @policies, @description, @kind, @secret_hash,
                 @created_at, @expires_at, @enabled, @revoked_at, @last_used_at)`,
      )
      .run(row);
  }

  update(id: string, fields: { description?: string; expires_at?: number | null; enabled?: number; disabled_by?: string | null }): void {
    const sets = Object.keys(fields).map((k) => `${k} = @${k}`);
    if (sets.length === 0) return;
    this.db.prepare(`UPDATE tokens SET ${sets.join(', ')} WHERE id = @id`).run({ ...fields, id });
  }

  revoke(id: string, now: number): void {
    this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
  }

  revokeAllOf(subjectId: string, now: number): number {
    return this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE subject_id = ? AND revoked_at IS NULL').run(now, subjectId).changes;
  }

  touch(id: string, now: number): void {
    this.touchStmt.run(now, id);
  }

  /** Deletes tokens that expired or were revoked before `before`. */
  purge(before: number): number {
    const expired = this.db.prepare('DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < ?').run(before).changes;
    const revoked = this.db.prepare('DELETE FROM tokens WHERE revoked_at IS NOT NULL AND revoked_at < ?').run(before).changes;
    return expired + revoked;
  }

  countByStatus(now: number): Record<TokenStatus, number> {
    const row = this.db
      .prepare<[Record<string, unknown>], Record<TokenStatus, number>>(
        `SELECT ${(Object.keys(STATUS_SQL) as TokenStatus[]).map((s) => `COALESCE(SUM(CASE WHEN ${STATUS_SQL[s]} THEN 1 ELSE 0 END), 0) AS ${s}`).join(', ')} FROM tokens`,
      )
      .get({ now })!;
    return { active: row.active, expired: row.expired, disabled: row.disabled, revoked: row.revoked };
  }

  list(filter: TokenFilter, page: Page, now: number) {
    const where: string[] = [];
    const params: Record<string, unknown> = { now, limit: page.limit + 1 };
    if (filter.subjectId !== undefined) {
      where.push('subject_id = @subject');
      params.subject = filter.subjectId;
    }
    if (filter.status !== undefined) where.push(STATUS_SQL[filter.status]);
    if (page.after) {
      where.push('(created_at, id) > (@afterCreated, @afterId)');
      params.afterCreated = Number(page.after[0]);
      params.afterId = page.after[1];
    }
    const sql = `SELECT * FROM tokens ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT @limit`;
    const rows = this.db.prepare<[Record<string, unknown>], TokenRow>(sql).all(params);
    return pageOf(rows, page.limit, (r) => [r.created_at, r.id], (r) => toToken(r, now));
  }
}
