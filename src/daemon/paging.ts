import { invalid, UNSTORABLE } from '../core/errors.js';

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

const badCursor = () => invalid('cursor is not valid: pass the nextCursor of a previous page unchanged', { field: 'cursor' });


function decodeCursor(cursor: string, parts: number): string[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw badCursor();
  }
  // No cursor of ours holds text a store cannot compare: a forged one is refused here, on either engine.
  if (Array.isArray(value) && value.length === parts && value.every((p) => typeof p === 'string' && !UNSTORABLE.test(p))) return value;
  throw badCursor();
}

/** A numeric part of a cursor (a time, an event id): a whole number, or the cursor was not ours. */
export function cursorNumber(part: string | undefined): number {
  const n = Number(part);
  if (part === undefined || !/^-?\d{1,16}$/.test(part) || !Number.isSafeInteger(n)) throw badCursor();
  return n;
}

/** Cuts one extra row off a query result fetched with limit+1 and makes the next cursor from the last row. */
export function pageOf<Row, Item>(rows: Row[], limit: number, key: (row: Row) => (string | number)[], toItem: (row: Row) => Item) {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const items = kept.map(toItem);
  return more ? { items, nextCursor: encodeCursor(key(kept[kept.length - 1]!)) } : { items };
}

/** A sort of a list: `?sort=name` ascending, `?sort=-name` descending; ties broken by id. */
export interface Sorted {
  /** As the client wrote it ("-created"); cursors carry it. */
  token: string;
  /** The SQL expression sorted on (matches an index). */
  expr: string;
  desc: boolean;
  numeric: boolean;
}

export type SortColumns = Record<string, { expr: string; numeric: boolean }>;

/** The allowed `sort` values of a list, for error messages and docs: "name, -name, created, …". */
export const sortValues = (columns: SortColumns) => Object.keys(columns).flatMap((k) => [k, `-${k}`]);

/** Reads `?sort=`; an unknown field is a 400 naming the allowed values. */
export function readSort(query: Record<string, unknown>, columns: SortColumns, fallback: string): Sorted {
  const raw = query.sort === undefined || query.sort === '' ? fallback : String(query.sort);
  const desc = raw.startsWith('-');
  const name = desc ? raw.slice(1) : raw;
  // Own keys only: "constructor" or "__proto__" are properties of every object, not sortable columns.
  const column = Object.hasOwn(columns, name) ? columns[name] : undefined;
  if (!column) throw invalid(`sort must be one of ${sortValues(columns).join(', ')}`, { field: 'sort' });
  return { token: raw, expr: column.expr, desc, numeric: column.numeric };
}

/** Reads `?search=` (a case-insensitive substring; at most 200 characters). */
export function readSearch(query: Record<string, unknown>): string | undefined {
  if (query.search === undefined || query.search === '') return undefined;
  const text = String(query.search);
  if (text.length > 200) throw invalid('search must be at most 200 characters', { field: 'search' });
  return text;
}

/** `%text%` for LIKE … ESCAPE '\', with the text's own wildcards taken literally. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A sorted page's SQL pieces: the keyset condition after the cursor, the ORDER BY, the cursor key. */
export function sortedPaging(sort: Sorted, page: Page, params: Record<string, unknown>) {
  const dir = sort.desc ? 'DESC' : 'ASC';
  let after: string | undefined;
  if (page.after) {
    const [token, key, id] = page.after;
    if (token !== sort.token) throw invalid(`cursor belongs to sort "${token}", not "${sort.token}": start again without a cursor`, { field: 'cursor' });
    params.afterKey = sort.numeric ? cursorNumber(key) : key;
    params.afterId = id;
    after = `(${sort.expr}, id) ${sort.desc ? '<' : '>'} (@afterKey, @afterId)`;
  }
  return {
    after,
    order: `ORDER BY ${sort.expr} ${dir}, id ${dir}`,
    /** The cursor of a row selected with `… , <expr> AS sort_key`. */
    key: (row: { sort_key: string | number; id: string }) => [sort.token, row.sort_key, row.id],
  };
}
