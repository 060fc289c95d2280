import type { Dialect } from './sql.js';

/** Case-insensitive substring match (ASCII letters at least): SQLite's LIKE is, PostgreSQL's is ILIKE. */
export const likeOp = (dialect: Dialect) => (dialect === 'postgres' ? 'ILIKE' : 'LIKE');
