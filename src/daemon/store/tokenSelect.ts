import type { Selector } from '../../core/selector.js';
import { likePattern } from '../paging.js';
import { likeOp } from './dialect.js';
import type { Dialect, Sql } from './sql.js';
import { TOKEN_COLUMNS, type TokenRow } from './tokenRow.js';

/** SQL conditions (portable: standard SQL, named parameters prefixed `sel_`) and their values. */
export interface SqlWhere {
  conds: string[];
  params: Record<string, unknown>;
}

/**
 * The conditions a token row must meet to match `s` at `now`. Only live (not revoked) tokens
 * match; the grammar and the meaning of each term are in core/selector.ts.
 */
export function selectorWhere(s: Selector, now: number, dialect: Dialect): SqlWhere {
  const conds = ['revoked_at IS NULL'];
  const params: Record<string, unknown> = {};
  if (s.subject !== undefined) {
    conds.push('subject_name = @sel_subject');
    params.sel_subject = s.subject;
  }
  if (s.policy !== undefined) {
    // A narrowed token carries only what its list names; an unnarrowed one all its subject holds.
    conds.push(
      "((policies = '[]' AND subject_id IN (SELECT subject_id FROM subject_policies WHERE policy = @sel_policy)) OR policies LIKE @sel_policy_like ESCAPE '\\')",
    );
    params.sel_policy = s.policy;
    params.sel_policy_like = likePattern(JSON.stringify(s.policy)); // the name with its quotes, in the JSON list
  }
  if (s.namePrefix !== undefined) {
    // substr counts characters in both SQLite and PostgreSQL; so does Array.from.
    conds.push('substr(name, 1, @sel_prefix_length) = @sel_prefix');
    params.sel_prefix = s.namePrefix;
    params.sel_prefix_length = Array.from(s.namePrefix).length;
  }
  if (s.createdBy !== undefined) {
    conds.push('created_by = @sel_created_by');
    params.sel_created_by = s.createdBy;
  }
  if (s.unusedFor !== undefined) {
    conds.push('COALESCE(last_used_at, created_at) <= @sel_unused_before');
    params.sel_unused_before = now - s.unusedFor;
  }
  if (s.expiresWithin !== undefined) {
    conds.push('expires_at IS NOT NULL AND expires_at > @sel_now AND expires_at <= @sel_expires_by');
    params.sel_now = now;
    params.sel_expires_by = now + s.expiresWithin;
  }
  if (s.kind !== undefined) {
    conds.push('subject_type = @sel_kind');
    params.sel_kind = s.kind;
  }
  if (s.search !== undefined) {
    conds.push(tokenMatchSql(dialect, 'sel_like'));
    params.sel_like = likePattern(s.search);
  }
  return { conds, params };
}

/** The list's search condition: name, subject, description or id contains the pattern bound to `@param` (any case). */
export const tokenMatchSql = (dialect: Dialect, param: string) =>
  `(${['name', 'subject_name', 'description', 'id'].map((c) => `${c} ${likeOp(dialect)} @${param} ESCAPE '\\'`).join(' OR ')})`;

/** Ids per UPDATE: well under every engine's limit on bound parameters. */
export const BULK_BATCH = 500;

/** Reads and changes the tokens a selector matches; writes belong inside the caller's transaction. */
export class TokenSelection {
  constructor(private readonly sql: Sql) {}

  /** Every live token matching `s` within `scope` (a subject's tokens, or one token), oldest first. */
  match(s: Selector, now: number, scope: { subjectId?: string; id?: string } = {}): Promise<TokenRow[]> {
    const { conds, params } = selectorWhere(s, now, this.sql.dialect);
    if (scope.subjectId !== undefined) {
      conds.push('subject_id = @scope_subject');
      params.scope_subject = scope.subjectId;
    }
    if (scope.id !== undefined) {
      conds.push('id = @scope_id');
      params.scope_id = scope.id;
    }
    return this.sql.all<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE ${conds.join(' AND ')} ORDER BY created_at, id`, params);
  }

  /** Revokes the live tokens among `ids`, a batch per statement; answers how many changed. */
  revoke(ids: string[], now: number): Promise<number> {
    return this.inBatches(ids, async (marks, batch) => (await this.sql.run(`UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND id IN (${marks})`, [now, ...batch])).changes);
  }

  /** Disables the live, enabled tokens among `ids`, recording who disabled them. */
  disable(ids: string[], by: string): Promise<number> {
    return this.inBatches(ids, async (marks, batch) =>
      (await this.sql.run(`UPDATE tokens SET enabled = 0, disabled_by = ? WHERE revoked_at IS NULL AND enabled = 1 AND id IN (${marks})`, [by, ...batch])).changes,
    );
  }

  private async inBatches(ids: string[], run: (marks: string, batch: string[]) => Promise<number>): Promise<number> {
    let changed = 0;
    for (let i = 0; i < ids.length; i += BULK_BATCH) {
      const batch = ids.slice(i, i + BULK_BATCH);
      changed += await run(batch.map(() => '?').join(', '), batch);
    }
    return changed;
  }
}
