import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectRows } from '../../src/daemon/store/dialect.js';
import { SqliteEngine } from '../../src/daemon/store/sqlite.js';

describe('selectRows on SQLite (rows packed as JSON arrays)', () => {
  let dir: string;
  let engine: SqliteEngine;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rune-rows-'));
    engine = SqliteEngine.open(dir);
    await engine.run('CREATE TABLE packing (n INTEGER PRIMARY KEY, t TEXT, i INTEGER, r REAL)');
  });
  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const text = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }).filter((s) => !/[\ud800-\udfff]/.test(s) && !s.includes('\u0000')),
    fc.constantFrom('', 'null', '123', '1e3', '[1,2]', '{"a":1}', '"quoted"', 'back\\slash', '\u2028\u2029', '😀', 'tab\there', 'nl\nhere'),
  );
  const integer = fc.oneof(fc.integer(), fc.constantFrom(0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1795484986187));
  const real = fc.double({ noNaN: true, noDefaultInfinity: true });

  it('reads what a plain SELECT reads, value for value, for any text, integer, real or NULL', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ t: fc.option(text), i: fc.option(integer), r: fc.option(real) }), { maxLength: 20 }), async (rows) => {
        await engine.run('DELETE FROM packing');
        for (const [n, row] of rows.entries()) await engine.run('INSERT INTO packing (n, t, i, r) VALUES (?, ?, ?, ?)', [n, row.t, row.i, row.r]);
        const plain = await engine.all('SELECT n, t, i, r, i * 2 AS twice FROM packing ORDER BY n');
        const packed = await selectRows(engine, ['n', 't', 'i', 'r', ['i * 2', 'twice']], 'FROM packing ORDER BY n', []);
        expect(packed).toEqual(plain);
        expect(packed.map((row) => Object.keys(row as object))).toEqual(plain.map((row) => Object.keys(row as object)));
      }),
      { numRuns: 60 },
    );
  });

  it('takes named parameters and a subquery, as the token list does', async () => {
    await engine.run('DELETE FROM packing');
    for (let n = 0; n < 10; n++) await engine.run('INSERT INTO packing (n, t, i) VALUES (?, ?, ?)', [n, `row ${n}`, n * 10]);
    const rows = await selectRows<{ n: number; t: string }>(engine, ['n', 't'], 'FROM (SELECT n, t FROM packing WHERE i >= @from ORDER BY n DESC LIMIT @window) AS walked WHERE t LIKE @like LIMIT @limit', { from: 30, window: 5, like: 'row %', limit: 3 });
    expect(rows).toEqual([
      { n: 9, t: 'row 9' },
      { n: 8, t: 'row 8' },
      { n: 7, t: 'row 7' },
    ]);
  });
});
