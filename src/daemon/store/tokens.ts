import type { Token, TokenStatus } from '../../core/wire.js';
import type { Selector } from '../../core/selector.js';
import { TOKEN_SEARCH_TEXT } from './postgresMigrations.js';
import type { Dialect, Sql } from './sql.js';
import { TOKEN_COLUMNS, type TokenRow } from './tokenRow.js';
import { selectRows } from './dialect.js';
import { selectorWhere, tokenMatchSql } from './tokenSelect.js';
import { likePattern, pageOf, sortedPaging, type Page, type SortColumns, type Sorted } from '../paging.js';

export type { TokenRow } from './tokenRow.js';

/** The columns a token answer is made of (LIST_COLUMNS): what a list reads. */
export type ListedTokenRow = Pick<TokenRow, 'id' | 'name' | 'subject_id' | 'subject_name' | 'subject_type' | 'policies' | 'description' | 'kind' | 'created_at' | 'expires_at' | 'enabled' | 'revoked_at' | 'last_used_at'>;

export function tokenStatus(row: Pick<TokenRow, 'revoked_at' | 'expires_at' | 'enabled'>, now: number): TokenStatus {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= now) return 'expired';
  if (row.enabled !== 1) return 'disabled';
  return 'active';
}

/** The last instant a JavaScript date can hold (the year 275760). */
const LAST_DATE_MS = 8.64e15;

/**
 * An expiry as ISO text. A runed before MAX_TTL_MS stored expiries past the last date a Date can
 * hold, which no list could then show: such a token reads as expiring at that last date.
 */
export const expiryText = (ms: number) => new Date(Math.min(ms, LAST_DATE_MS)).toISOString();

export function toToken(row: ListedTokenRow, now = Date.now()): Token {
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
  if (row.expires_at !== null) token.expiresAt = expiryText(row.expires_at);
  if (row.revoked_at !== null) token.revokedAt = new Date(row.revoked_at).toISOString();
  if (row.last_used_at !== null) token.lastUsedAt = new Date(row.last_used_at).toISOString();
  return token;
}

/** SQL for each status, with `@now` bound; kept beside tokenStatus so the two agree. */
export const STATUS_SQL: Record<TokenStatus, string> = {
  revoked: 'revoked_at IS NOT NULL',
  expired: 'revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= @now',
  disabled: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now) AND enabled = 0',
  active: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now) AND enabled = 1',
};

export interface TokenFilter {
  subjectId?: string;
  /** One token only (a narrowed token listing what it may see: itself). */
  id?: string;
  status?: TokenStatus;
  /** Only tokens with an expiry at or before this time (ms). */
  expiresBy?: number;
  /** Only the live tokens a selector matches (`?selector=`). */
  selector?: Selector;
}

export class Tokens {
  constructor(private readonly sql: Sql) {}

  get(id: string): Promise<TokenRow | undefined> {
    return this.sql.get<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`, [id]);
  }

  async insert(row: TokenRow): Promise<void> {
    await this.sql.run(
      `INSERT INTO tokens (id, name, subject_id, subject_name, subject_type, policies, description, kind, secret_hash,
                           created_at, expires_at, enabled, revoked_at, last_used_at, created_by)
       VALUES (@id, @name, @subject_id, @subject_name, @subject_type, @policies, @description, @kind, @secret_hash,
               @created_at, @expires_at, @enabled, @revoked_at, @last_used_at, @created_by)`,
      row as unknown as Record<string, unknown>,
    );
  }

  async update(id: string, fields: { description?: string; expires_at?: number | null; enabled?: number; disabled_by?: string | null }): Promise<void> {
    const sets = Object.keys(fields).map((k) => `${k} = @${k}`);
    if (sets.length === 0) return;
    await this.sql.run(`UPDATE tokens SET ${sets.join(', ')} WHERE id = @id`, { ...fields, id });
  }

  async revoke(id: string, now: number): Promise<void> {
    await this.sql.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [now, id]);
  }

  /**
   * Replaces the secret's hash; the one it replaces is honoured until `prevUntil` (null: at once
   * no more). A rotation inside a grace period drops the older secret: only one old secret lives.
   */
  async rotateSecret(id: string, secretHash: string, prevUntil: number | null): Promise<void> {
    // The right-hand sides read the row as it was: prev_secret_hash gets the hash being replaced.
    if (prevUntil === null) {
      await this.sql.run('UPDATE tokens SET secret_hash = @hash, prev_secret_hash = NULL, prev_secret_until = NULL WHERE id = @id', { id, hash: secretHash });
    } else {
      await this.sql.run('UPDATE tokens SET prev_secret_hash = secret_hash, prev_secret_until = @until, secret_hash = @hash WHERE id = @id', { id, hash: secretHash, until: prevUntil });
    }
  }

  /** Active tokens expiring within each horizon (ms from now): one walk of the expiry index. */
  async countExpiring(now: number, horizons: number[]): Promise<number[]> {
    const last = Math.max(...horizons);
    const sums = horizons.map((_, i) => `COALESCE(SUM(CASE WHEN expires_at <= @h${i} THEN 1 ELSE 0 END), 0) AS n${i}`).join(', ');
    const params: Record<string, number> = { now, last: now + last };
    horizons.forEach((h, i) => (params[`h${i}`] = now + h));
    const row = await this.sql.get<Record<string, number>>(
      `SELECT ${sums} FROM tokens WHERE COALESCE(expires_at, 9007199254740991) > @now AND COALESCE(expires_at, 9007199254740991) <= @last AND ${STATUS_SQL.active}`,
      params,
    );
    return horizons.map((_, i) => Number(row?.[`n${i}`] ?? 0));
  }

  async revokeAllOf(subjectId: string, now: number): Promise<number> {
    return (await this.sql.run('UPDATE tokens SET revoked_at = ? WHERE subject_id = ? AND revoked_at IS NULL', [now, subjectId])).changes;
  }

  async touch(id: string, now: number): Promise<void> {
    await this.sql.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', [now, id]);
  }

  /** Deletes tokens that expired or were revoked before `before`. */
  async purge(before: number): Promise<number> {
    const expired = (await this.sql.run('DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at < ?', [before])).changes;
    const revoked = (await this.sql.run('DELETE FROM tokens WHERE revoked_at IS NOT NULL AND revoked_at < ?', [before])).changes;
    return expired + revoked;
  }

  async countByStatus(now: number): Promise<Record<TokenStatus, number>> {
    const row = (await this.sql.get<Record<TokenStatus, number>>(
      `SELECT ${(Object.keys(STATUS_SQL) as TokenStatus[]).map((s) => `COALESCE(SUM(CASE WHEN ${STATUS_SQL[s]} THEN 1 ELSE 0 END), 0) AS ${s}`).join(', ')} FROM tokens`,
      { now },
    ))!;
    return { active: Number(row.active), expired: Number(row.expired), disabled: Number(row.disabled), revoked: Number(row.revoked) };
  }

  /**
   * A page of tokens in `sort` order after the cursor, optionally only those whose name, subject,
   * description or id contains `search` (case-insensitive for ASCII letters). Two plans: a match
   * that is common is found by walking the sort index (a page fills within SEARCH_WINDOW rows); a
   * rare one (3+ characters) comes from the trigram index (SQLite: tokens_search), and is then sorted.
   */
  async list(filter: TokenFilter, page: Page, now: number, opts: { search?: string | undefined; sort?: Sorted | undefined } = {}) {
    const sort = opts.sort ?? DEFAULT_TOKEN_SORT;
    const match = tokenMatch(this.sql.dialect);
    const where: string[] = [];
    const params: Record<string, unknown> = { now, limit: page.limit + 1 };
    if (filter.subjectId !== undefined) {
      where.push('subject_id = @subject');
      params.subject = filter.subjectId;
    }
    if (filter.id !== undefined) {
      where.push('id = @id');
      params.id = filter.id;
    }
    if (filter.status !== undefined) where.push(STATUS_SQL[filter.status]);
    if (filter.expiresBy !== undefined) {
      where.push('COALESCE(expires_at, 9007199254740991) <= @expiresBy');
      params.expiresBy = filter.expiresBy;
    }
    if (filter.selector !== undefined) {
      const selected = selectorWhere(filter.selector, now, this.sql.dialect);
      where.push(...selected.conds);
      Object.assign(params, selected.params);
    }
    const paging = sortedPaging(sort, page, params);
    const base = [...where];
    if (paging.after) where.push(paging.after);
    const and = (conds: string[]) => (conds.length ? `WHERE ${conds.join(' AND ')}` : '');
    const select = (conds: string[]) => `SELECT ${LIST_COLUMNS}, ${sort.expr} AS sort_key FROM tokens ${and(conds)} ${paging.order}`;
    type Listed = ListedTokenRow & { sort_key: number | string };
    /** The page's rows, read as packed rows (selectRows): the columns of a token answer and the sort key. */
    const rowsOf = (conds: string[]) => selectRows<Listed>(this.sql, [...LIST_NAMES, [sort.expr, 'sort_key']], `FROM tokens ${and(conds)} ${paging.order} LIMIT @limit`, params);
    const toPage = (rows: (ListedTokenRow & { sort_key: number | string })[]) => pageOf(rows, page.limit, paging.key, (r) => toToken(r, now));
    let result: ReturnType<typeof toPage> & { total?: number; totalCapped?: boolean };
    let sparse = false;
    if (opts.search === undefined) {
      result = toPage(await rowsOf(where));
    } else {
      params.like = likePattern(opts.search);
      params.window = SEARCH_WINDOW;
      const rows = await selectRows<Listed>(this.sql, [...LIST_NAMES, 'sort_key'], `FROM (${select(where)} LIMIT @window) AS walked WHERE ${match} LIMIT @limit`, params);
      const windowEnd = await this.sql.get(`SELECT id FROM tokens ${and(where)} ${paging.order} LIMIT 1 OFFSET @window - 1`, params);
      if (rows.length > page.limit || !windowEnd) result = toPage(rows);
      else {
        sparse = true;
        const conds = [...where, match];
        const trigram = this.trigram(opts.search);
        if (trigram) {
          conds.unshift(trigram);
          params.phrase = `"${opts.search.replaceAll('"', '""')}"`;
        }
        result = toPage(await rowsOf(conds));
      }
    }
    if (!page.after) Object.assign(result, await this.count(base, params, opts.search, sparse));
    return result;
  }

  /**
   * The condition that lets a trigram index serve a search of 3+ characters: SQLite's FTS5 table,
   * or PostgreSQL's pg_trgm index on TOKEN_SEARCH_TEXT (the per-column match still decides).
   */
  private trigram(search: string): string | undefined {
    if (search.length < 3) return undefined;
    return this.sql.dialect === 'sqlite' ? TRIGRAM_SQL : `(${TOKEN_SEARCH_TEXT}) ILIKE @like ESCAPE '\\'`;
  }

  /** The first page's total: exact, except a common search match, counted up to TOTAL_CAP. */
  private async count(where: string[], params: Record<string, unknown>, search: string | undefined, sparse: boolean): Promise<{ total: number; totalCapped?: boolean }> {
    const conds = search === undefined ? where : [...where, tokenMatch(this.sql.dialect)];
    const trigram = search !== undefined && sparse ? this.trigram(search) : undefined;
    if (trigram) conds.unshift(trigram);
    const capped = search !== undefined && !sparse;
    const sql = capped
      ? `SELECT COUNT(*) AS n FROM (SELECT 1 FROM tokens ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''} LIMIT ${TOTAL_CAP + 1}) AS capped`
      : `SELECT COUNT(*) AS n FROM tokens ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}`;
    const n = Number((await this.sql.get<{ n: number }>(sql, params))!.n);
    return n > TOTAL_CAP && capped ? { total: TOTAL_CAP, totalCapped: true } : { total: n };
  }
}

/** SQLite only: candidates from the FTS5 trigram index, keyed by the tokens rowid (migration 5). */
const TRIGRAM_SQL = 'rowid IN (SELECT rowid FROM tokens_search WHERE tokens_search MATCH @phrase)';

/** `?sort=` of GET /v1/tokens; each has an index (migration 4). */
export const TOKEN_SORTS: SortColumns = {
  created: { expr: 'created_at', numeric: true },
  name: { expr: 'name', numeric: false },
  subject: { expr: 'subject_name', numeric: false },
  // "never" sorts after every date; a never-used token before every use.
  expires: { expr: 'COALESCE(expires_at, 9007199254740991)', numeric: true },
  lastUsed: { expr: 'COALESCE(last_used_at, 0)', numeric: true },
};
export const DEFAULT_TOKEN_SORT: Sorted = { token: 'created', expr: 'created_at', desc: false, numeric: true };

/** What a token answer needs (toToken), and nothing secret: a list reads a third fewer columns than SELECT *. */
const LIST_NAMES = ['id', 'name', 'subject_id', 'subject_name', 'subject_type', 'policies', 'description', 'kind', 'created_at', 'expires_at', 'enabled', 'revoked_at', 'last_used_at'] as const;
const LIST_COLUMNS = LIST_NAMES.join(', ');
const tokenMatch = (dialect: Dialect) => tokenMatchSql(dialect, 'like');
/** Rows of the sort index walked before a search counts as rare and goes to the trigram index. */
const SEARCH_WINDOW = 4096;
/** A common match is counted up to here ("1000+"): counting every one would scan the table. */
export const TOTAL_CAP = 1000;
