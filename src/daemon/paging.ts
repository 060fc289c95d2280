import { invalid } from '../core/errors.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export interface Page {
  limit: number;
  /** The decoded position after which the page starts. */
  after?: string[];
}

/** Reads `?limit=` and `?cursor=` (§6a); a bad value is a 400 that says what is wrong. */
export function readPage(query: Record<string, unknown>, parts: number): Page {
  let limit = DEFAULT_LIMIT;
  if (query.limit !== undefined) {
    const text = String(query.limit);
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_LIMIT) {
      throw invalid(`limit must be a whole number from 1 to ${MAX_LIMIT}`, { field: 'limit' });
    }
    limit = Number(text);
  }
  if (query.cursor === undefined || query.cursor === '') return { limit };
  const after = decodeCursor(String(query.cursor), parts);
  return { limit, after };
}

export function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts.map(String))).toString('base64url');
}

function decodeCursor(cursor: string, parts: number): string[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === parts && value.every((p) => typeof p === 'string')) return value;
  } catch {
    // fall through to the error below
  }
  throw invalid('cursor is not valid: pass the nextCursor of a previous page unchanged', { field: 'cursor' });
}

/** Cuts one extra row off a query result fetched with limit+1 and makes the next cursor from the last row. */
export function pageOf<Row, Item>(rows: Row[], limit: number, key: (row: Row) => (string | number)[], toItem: (row: Row) => Item) {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const items = kept.map(toItem);
  return more ? { items, nextCursor: encodeCursor(key(kept[kept.length - 1]!)) } : { items };
}
