import type { Engine, Sql } from './sql.js';

/**
 * The tables a store holds, parents before children (foreign keys). The SQLite-only search index
 * is rebuilt by the destination itself.
 */
export const STORE_TABLES: readonly string[] = ['meta', 'policies', 'subjects', 'subject_policies', 'namespaces', 'tokens', 'audit_events', 'registries', 'trusts', 'oidc_seen'];

/** Tables whose rows every runed start writes (built-ins): replaced, not refused, in the destination. */
const SEEDED = new Set(['meta', 'policies', 'namespaces']);

export interface TableCount {
  table: string;
  source: number;
  destination: number;
}

export interface MigrationReport {
  tables: TableCount[];
  /** The newest audit event, the same on both sides. */
  auditHead: { id: number; hash: string } | undefined;
  ms: number;
}

const BATCH_ROWS = 500;

async function count(sql: Sql, table: string): Promise<number> {
  return (await sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n;
}

async function auditHead(sql: Sql): Promise<{ id: number; hash: string } | undefined> {
  const row = await sql.get<{ id: number; hash: string }>('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1');
  return row ? { id: Number(row.id), hash: row.hash } : undefined;
}

/**
 * Copies every row of `from` into `to` in one transaction of the destination: it lands whole or
 * not at all. The destination must hold no subject, token or audit event (only what a start seeds).
 * Afterwards both sides are counted table by table and their audit heads compared; the caller
 * verifies the chain itself with the audit key.
 */
export async function migrateStore(from: Engine & { dialect: 'sqlite' }, to: Engine, onTable: (table: string, rows: number) => void = () => {}): Promise<MigrationReport> {
  const started = Date.now();
  for (const table of ['subjects', 'tokens', 'audit_events']) {
    const n = await count(to, table);
    if (n > 0) throw new Error(`nothing was copied: the destination already holds data (${n} rows in ${table}); migrate-store only fills an empty store`);
  }
  await to.transaction(async (tx) => {
    // Children first when clearing what a start seeded, parents first when filling.
    for (const name of [...STORE_TABLES].reverse()) if (SEEDED.has(name) || name === 'subject_policies') await tx.run(`DELETE FROM ${name}`);
    for (const name of STORE_TABLES) {
      let copied = 0;
      for (let after = Number.MIN_SAFE_INTEGER; ; ) {
        // SQLite sources are read by rowid (keyset paging: each batch costs the same).
        const page = await from.all<Record<string, unknown>>(`SELECT rowid AS rune_rowid, * FROM ${name} WHERE rowid > ? ORDER BY rowid LIMIT ?`, [after, BATCH_ROWS]);
        if (page.length === 0) break;
        after = Number(page[page.length - 1]!.rune_rowid);
        const rows = page.map(({ rune_rowid: _, ...row }) => row);
        const columns = Object.keys(rows[0]!);
        const tuple = `(${columns.map(() => '?').join(', ')})`;
        await tx.run(
          `INSERT INTO ${name} (${columns.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`,
          rows.flatMap((row) => columns.map((c) => row[c])),
        );
        copied += rows.length;
        if (page.length < BATCH_ROWS) break;
      }
      onTable(name, copied);
    }
    if (to.dialect === 'postgres') {
      // Ids were copied as they were: the identity continues after the highest one.
      await tx.run("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), GREATEST((SELECT MAX(id) FROM audit_events), 1), (SELECT COUNT(*) > 0 FROM audit_events))");
    }
  }).catch((e: unknown) => {
    throw new Error(`nothing was copied (the transaction rolled back): ${(e as Error).message}`, { cause: e });
  });
  const tables: TableCount[] = [];
  for (const name of STORE_TABLES) tables.push({ table: name, source: await count(from, name), destination: await count(to, name) });
  const wrong = tables.filter((t) => t.source !== t.destination);
  if (wrong.length > 0) throw new Error(`the copy is incomplete: ${wrong.map((t) => `${t.table} ${t.destination} of ${t.source}`).join(', ')}`);
  const [headFrom, headTo] = [await auditHead(from), await auditHead(to)];
  if (headFrom?.id !== headTo?.id || headFrom?.hash !== headTo?.hash) throw new Error('the audit heads differ after the copy');
  return { tables, auditHead: headTo, ms: Date.now() - started };
}
