import type { Dialect, Params, Sql } from './sql.js';

/** Case-insensitive substring match (ASCII letters at least): SQLite's LIKE is, PostgreSQL's is ILIKE. */
export const likeOp = (dialect: Dialect) => (dialect === 'postgres' ? 'ILIKE' : 'LIKE');

/** A column of selectRows: a name, or an expression with the name it is read under. */
export type Column = string | readonly [expr: string, name: string];

/**
 * `SELECT <columns> <rest>`, each row an object keyed by the columns' names.
 *
 * On SQLite a row comes back as one JSON array (`json_array(…)`) and is unpacked here:
 * better-sqlite3 builds every column value through V8's API, which made a page of 100 tokens
 * (14 columns) cost ~0.8 ms; one string per row and JSON.parse cost ~0.25 ms. Integers stay exact
 * up to 2^53 (the store holds no larger ones), reals round-trip (but -0 reads as 0), NULL stays
 * null, text stays text. Meant for lists, whose rows are many; a lookup of one row gains nothing.
 */
export async function selectRows<T>(sql: Sql, columns: readonly Column[], rest: string, params?: Params): Promise<T[]> {
  const names = columns.map((c) => (typeof c === 'string' ? c : c[1]));
  if (sql.dialect !== 'sqlite') {
    const list = columns.map((c) => (typeof c === 'string' ? c : `${c[0]} AS ${c[1]}`)).join(', ');
    return sql.all<T>(`SELECT ${list} ${rest}`, params);
  }
  const exprs = columns.map((c) => (typeof c === 'string' ? c : c[0])).join(', ');
  const packed = await sql.all<{ packed: string }>(`SELECT json_array(${exprs}) AS packed ${rest}`, params);
  return packed.map(({ packed: text }) => {
    const values = JSON.parse(text) as unknown[];
    const row: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) row[names[i]!] = values[i];
    return row as T;
  });
}
