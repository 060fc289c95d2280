import Database from 'better-sqlite3';
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditFilesIn, Store } from '../../src/daemon/store/index.js';
import { MIGRATIONS } from '../../src/daemon/store/migrations.js';
import { PostgresEngine, StoreUnavailableError, bindParams, parsePostgresUrl, toPostgresPlaceholders } from '../../src/daemon/store/postgres.js';
import { POSTGRES_MIGRATIONS, TOKEN_SEARCH_TEXT } from '../../src/daemon/store/postgresMigrations.js';
import { PostgresServer } from '../helpers/postgres.js';

describe('placeholder rewriting', () => {
  it('numbers ? in order and leaves literals, identifiers and comments alone', () => {
    const s = toPostgresPlaceholders(`SELECT '?', "a?b", ? AS x -- what?\n, E'it\\'s @x ?', $$ ? $$, ? /* @y ? */`);
    expect(s.text).toBe(`SELECT '?', "a?b", $1 AS x -- what?\n, E'it\\'s @x ?', $$ ? $$, $2 /* @y ? */`);
    expect(s.count).toBe(2);
    expect(s.names).toBeUndefined();
  });

  it("keeps a standard string's backslash literal ('\\' ends the string)", () => {
    const s = toPostgresPlaceholders(`SELECT x LIKE @like ESCAPE '\\' OR y LIKE @like ESCAPE '\\' AND z = ?`.replace(' AND z = ?', ' AND z = @z'));
    expect(s.text).toBe(`SELECT x LIKE $1 ESCAPE '\\' OR y LIKE $1 ESCAPE '\\' AND z = $2`);
    expect(s.names).toEqual(['like', 'z']);
  });

  it('binds a name used twice to one $n; a doubled quote stays inside its string', () => {
    const s = toPostgresPlaceholders("SELECT 'it''s @no' AS a WHERE b = @now OR c < @now OR d = @other");
    expect(s.text).toBe("SELECT 'it''s @no' AS a WHERE b = $1 OR c < $1 OR d = $2");
    expect(bindParams(s, { now: 5, other: 'x', extra: 1 }, '')).toEqual([5, 'x']);
  });

  it('refuses $n, mixed styles, and missing, undefined or miscounted values', () => {
    expect(() => toPostgresPlaceholders('SELECT $1')).toThrow(/\? or @name/);
    expect(() => toPostgresPlaceholders('SELECT ?, @a')).toThrow(/mixes/);
    expect(() => toPostgresPlaceholders("SELECT 'open")).toThrow(/unterminated/);
    const named = toPostgresPlaceholders('SELECT @a');
    expect(() => bindParams(named, {}, 'SELECT @a')).toThrow(/missing SQL parameter @a/);
    expect(() => bindParams(named, { a: undefined }, 'SELECT @a')).toThrow(/@a/);
    expect(() => bindParams(named, [1], 'SELECT @a')).toThrow(/named parameters/);
    const positional = toPostgresPlaceholders('SELECT ?, ?');
    expect(() => bindParams(positional, [1], 'SELECT ?, ?')).toThrow(/takes 2 parameters, got 1/);
    expect(() => bindParams(positional, [1, undefined], 'SELECT ?, ?')).toThrow(/parameter 2 is undefined/);
  });
});

describe('store URL', () => {
  it('reads postgres://USER@HOST:PORT/DB', () => {
    expect(parsePostgresUrl('postgres://rune@db.example:6543/runed')).toMatchObject({ user: 'rune', host: 'db.example', port: 6543, database: 'runed' });
    expect(parsePostgresUrl('postgresql://rune@[::1]/runed')).toMatchObject({ host: '::1', port: 5432 });
  });

  it('refuses a password in the URL, and says where the password goes', () => {
    expect(() => parsePostgresUrl('postgres://rune:hunter2@db:5432/runed')).toThrow(/must not carry a password.*PGPASSWORD/);
  });

  it('names what is missing', () => {
    expect(() => parsePostgresUrl('mysql://rune@db/runed')).toThrow(/postgres:\/\//);
    expect(() => parsePostgresUrl('postgres://db:5432/runed')).toThrow(/user/);
    expect(() => parsePostgresUrl('postgres://rune@db:5432/')).toThrow(/database/);
    expect(() => parsePostgresUrl('not a url')).toThrow(/not a URL/);
  });
});

describe('the PostgreSQL engine on a real server', () => {
  let server: PostgresServer;
  const engines: PostgresEngine[] = [];
  const open = async (url: string, opts: Parameters<typeof PostgresEngine.open>[1] = {}) => {
    const engine = await PostgresEngine.open(url, { env: server.env, ...opts });
    engines.push(engine);
    return engine;
  };

  beforeAll(async () => {
    server = await PostgresServer.start();
  });

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    await server?.destroy();
  });

  it('runs positional and named statements; int8 comes back as a number', async () => {
    const db = await open(await server.createDatabase());
    await db.run('CREATE TABLE t (id TEXT PRIMARY KEY, at BIGINT, n INTEGER, note TEXT)');
    const now = Date.now();
    expect(await db.run('INSERT INTO t (id, at, n, note) VALUES (?, ?, ?, ?)', ['a', now, 1, "it's ?"])).toEqual({ changes: 1 });
    expect(await db.run('INSERT INTO t (id, at, n, note) VALUES (@id, @at, @n, @note)', { id: 'b', at: 9007199254740991, n: 2, note: null, unused: 'x' })).toEqual({ changes: 1 });
    expect(await db.get('SELECT * FROM t WHERE id = ?', ['a'])).toEqual({ id: 'a', at: now, n: 1, note: "it's ?" });
    expect(await db.get('SELECT at FROM t WHERE id = @id', { id: 'b' })).toEqual({ at: 9007199254740991 });
    expect(await db.get("SELECT COUNT(*) AS n, SUM(at) - SUM(at) AS zero, '?' AS q FROM t")).toEqual({ n: 2, zero: 0, q: '?' });
    expect(await db.get('SELECT * FROM t WHERE id = ?', ['none'])).toBeUndefined();
    expect(await db.all('SELECT id FROM t WHERE at >= @at OR n = @n ORDER BY id', { at: now, n: 7 })).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(await db.run('UPDATE t SET n = n + 1')).toEqual({ changes: 2 });
    expect(await db.run('DELETE FROM t WHERE id = ?', ['none'])).toEqual({ changes: 0 });
  });

  it('refuses an int8 a JS number cannot hold exactly', async () => {
    const db = await open(await server.createDatabase());
    await expect(db.get('SELECT 9007199254740993::bigint AS big')).rejects.toThrow(/beyond what a JS number holds/);
  });

  it('commits a transaction together, and rolls all of it back when its function throws', async () => {
    const db = await open(await server.createDatabase());
    await db.run('CREATE TABLE t (id TEXT PRIMARY KEY)');
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO t (id) VALUES (?)', ['kept-1']);
      await tx.run('INSERT INTO t (id) VALUES (?)', ['kept-2']);
    });
    const failure = new Error('stop here');
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id) VALUES (?)', ['lost']);
        expect(await tx.get('SELECT id FROM t WHERE id = ?', ['lost'])).toEqual({ id: 'lost' });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await db.all('SELECT id FROM t ORDER BY id')).toEqual([{ id: 'kept-1' }, { id: 'kept-2' }]);
    // A failed statement aborts the transaction; nothing of it lands, and the pool's connection is usable again.
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (id) VALUES (?)', ['lost-too']);
        await tx.run('INSERT INTO t (id) VALUES (?)', ['kept-1']);
      }),
    ).rejects.toThrow(/duplicate key.*SQLSTATE 23505.*INSERT INTO t/);
    expect(await db.all('SELECT id FROM t ORDER BY id')).toEqual([{ id: 'kept-1' }, { id: 'kept-2' }]);
  });

  it('runs a nested transaction inside the outer one, and refuses the pool inside a transaction', async () => {
    const db = await open(await server.createDatabase());
    await db.run('CREATE TABLE t (id TEXT PRIMARY KEY)');
    await expect(
      db.transaction(async (tx) => {
        await (tx as PostgresEngine).transaction(async (inner) => inner.run('INSERT INTO t (id) VALUES (?)', ['inner']));
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await db.all('SELECT id FROM t')).toEqual([]);
    await expect(db.transaction(async () => db.get('SELECT 1 AS one'))).rejects.toThrow(/use the transaction's store/);
    await expect(db.transaction(async () => db.transaction(async () => 1))).rejects.toThrow(/inside another one/);
    let leaked: import('../../src/daemon/store/sql.js').Sql | undefined;
    await db.transaction(async (tx) => void (leaked = tx));
    await expect(leaked!.get('SELECT 1 AS one')).rejects.toThrow(/already ended/);
  });

  it('keeps concurrent transactions apart', async () => {
    const db = await open(await server.createDatabase());
    await db.run('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await db.run('INSERT INTO counter (id, n) VALUES (1, 0)');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        db.transaction(async (tx) => {
          const { n } = (await tx.get<{ n: number }>('SELECT n FROM counter WHERE id = 1 FOR UPDATE'))!;
          await tx.run('UPDATE counter SET n = ? WHERE id = 1', [n + 1]);
        }),
      ),
    );
    expect(await db.get('SELECT n FROM counter')).toEqual({ n: 20 });
  });

  it('translates every SQLite migration: the same tables and columns at the same version', async () => {
    expect(POSTGRES_MIGRATIONS.length).toBe(MIGRATIONS.length);
    const sqlite = new Database(':memory:');
    for (const m of MIGRATIONS) sqlite.exec(m);
    const sqliteTables = (sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'tokens_search%'").all() as { name: string }[]).map((r) => r.name);
    const sqliteColumns = Object.fromEntries(sqliteTables.map((t) => [t, (sqlite.pragma(`table_info(${t})`) as { name: string }[]).map((c) => c.name).sort()]));
    const db = await open(await server.createDatabase());
    const rows = await db.all<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY table_name, column_name",
    );
    const pgColumns: Record<string, string[]> = {};
    for (const r of rows) (pgColumns[r.table_name] ??= []).push(r.column_name);
    for (const cols of Object.values(pgColumns)) cols.sort();
    expect(pgColumns).toEqual(sqliteColumns);
    expect(await db.all('SELECT version FROM schema_migrations ORDER BY version')).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    const trgm = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_indexes WHERE indexname = 'tokens_search_trgm'");
    expect(trgm).toEqual({ n: 1 });
    sqlite.close();
  });

  it('applies migrations once when five engines open the same empty database at the same instant', async () => {
    const url = await server.createDatabase();
    const five = await Promise.all(Array.from({ length: 5 }, () => open(url)));
    expect(five).toHaveLength(5);
    const db = five[0]!;
    expect(await db.all('SELECT version, COUNT(*) AS n FROM schema_migrations GROUP BY version ORDER BY version')).toEqual(POSTGRES_MIGRATIONS.map((_, i) => ({ version: i + 1, n: 1 })));
    // Each applies nothing more on a second open.
    expect(await five[1]!.migrate()).toBe(0);
    // The identity column numbers audit events for every engine alike.
    const insert = (e: PostgresEngine) =>
      e.get<{ id: number }>("INSERT INTO audit_events (time, action, resource, outcome, prev_hash, hash) VALUES (?, 'a', 'r', 'success', 'p', 'h') RETURNING id", [Date.now()]);
    const ids = await Promise.all(five.map(insert));
    expect(new Set(ids.map((r) => r!.id)).size).toBe(5);
    expect(ids.every((r) => typeof r!.id === 'number')).toBe(true);
  });

  it('refuses a database written by a newer runed', async () => {
    const url = await server.createDatabase();
    const db = await open(url);
    await db.run('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)', [POSTGRES_MIGRATIONS.length + 1, Date.now()]);
    const known = POSTGRES_MIGRATIONS.length;
    await expect(PostgresEngine.open(url, { env: server.env })).rejects.toThrow(`newer runed (schema ${known + 1}, this one knows ${known})`);
  });

  it('takes the password from PGPASSWORD or a password file, and says so when it is wrong', async () => {
    const url = await server.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'rune-pgpass-'));
    const file = join(dir, 'password');
    writeFileSync(file, `${server.password}\n`);
    chmodSync(file, 0o600);
    const fromFile = await open(url, { env: {}, passwordFile: file });
    expect(await fromFile.get('SELECT current_user AS who')).toEqual({ who: server.user });
    await expect(PostgresEngine.open(url, { env: { PGPASSWORD: 'wrong' } })).rejects.toThrow(/password authentication failed for user "rune"/);
    await expect(PostgresEngine.open(url, { env: {}, passwordFile: join(dir, 'missing') })).rejects.toThrow(/cannot read the store password file .*ENOENT/);
    await expect(PostgresEngine.open(url.replace('rune@', `rune:${server.password}@`), { env: server.env })).rejects.toThrow(/must not carry a password/);
  });

  describe('the store on PostgreSQL', () => {
    const stores: Store[] = [];
    const storeOn = async (url: string, dir = mkdtempSync(join(tmpdir(), 'rune-pg-store-'))) => {
      const store = await Store.openOn(await PostgresEngine.open(url, { env: server.env }), auditFilesIn(dir));
      stores.push(store);
      return { store, dir };
    };
    afterAll(async () => {
      for (const s of stores.splice(0)) await s.close();
    });

    it('a read outside a transaction never sees its uncommitted write; a rollback leaves nothing', async () => {
      const { store } = await storeOn(await server.createDatabase());
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let written!: () => void;
      const inside = new Promise<void>((r) => (written = r));
      const tx = store.transaction(async (t) => {
        await t.namespaces.insert('pending', 1);
        expect(await t.namespaces.get('pending')).toBeDefined();
        written();
        await held;
        throw new Error('roll back');
      });
      await inside;
      expect(await store.namespaces.get('pending')).toBeUndefined();
      release();
      await expect(tx).rejects.toThrow('roll back');
      expect(await store.namespaces.get('pending')).toBeUndefined();
    });

    it('using the store itself inside a transaction throws, as on SQLite', async () => {
      const { store } = await storeOn(await server.createDatabase());
      await expect(store.transaction(async () => store.namespaces.get('default'))).rejects.toThrow(/store misuse/);
      await expect(store.transaction(async () => store.audit.append({ action: 'a', resource: 'r', outcome: 'success' }))).rejects.toThrow(/store misuse/);
      await store.transaction(async (tx) => tx.transaction(async (inner) => inner.namespaces.insert('nested', 1)));
      expect(await store.namespaces.get('nested')).toBeDefined();
    });

    it('two stores on one database (two replicas) appending at once keep one linear audit chain', async () => {
      const url = await server.createDatabase();
      const a = await storeOn(url);
      const bDir = mkdtempSync(join(tmpdir(), 'rune-pg-store-'));
      copyFileSync(join(a.dir, 'audit.key'), join(bDir, 'audit.key')); // replicas share the audit key
      const b = await storeOn(url, bDir);
      const append = (store: Store, ref: string) => store.transaction((tx) => tx.audit.append({ action: 'create', resource: 'users', ref, outcome: 'success' }));
      await Promise.all(Array.from({ length: 30 }, (_, i) => append(i % 2 ? a.store : b.store, `u${i}`)));
      const report = await a.store.audit.verify({ key: undefined, keyFile: join(a.dir, 'audit.key'), headFile: join(a.dir, 'audit.head') });
      expect(report.events).toBe(30);
      expect(report.breaks.filter((x) => x.id !== undefined)).toEqual([]);
      const rows = await (a.store.engine as PostgresEngine).all<{ id: number; prev_hash: string; hash: string }>('SELECT id, prev_hash, hash FROM audit_events ORDER BY id');
      rows.forEach((row, i) => i > 0 && expect(row.prev_hash).toBe(rows[i - 1]!.hash));
    });

    it('a token search can use the pg_trgm index (the expression the store queries is the indexed one)', async () => {
      const { store } = await storeOn(await server.createDatabase());
      const plan = await store.engine.transaction(async (tx) => {
        await tx.run('SET LOCAL enable_seqscan = off'); // an empty table would be scanned otherwise
        return tx.all<{ 'QUERY PLAN': string }>(`EXPLAIN SELECT id FROM tokens WHERE (${TOKEN_SEARCH_TEXT}) ILIKE ? ESCAPE '\\'`, ['%needle%']);
      });
      expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/tokens_search_trgm/);
    });
  });

  it('reports a stopped server as unavailable, and works again once it is back', async () => {
    const db = await open(await server.createDatabase(), { connectTimeoutMs: 2000 });
    await db.run('CREATE TABLE t (id TEXT)');
    await server.stop();
    try {
      await expect(db.get('SELECT 1 AS one')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(db.transaction(async (tx) => tx.run('INSERT INTO t (id) VALUES (?)', ['x']))).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await server.start();
    }
    await db.run('INSERT INTO t (id) VALUES (?)', ['after']);
    expect(await db.all('SELECT id FROM t')).toEqual([{ id: 'after' }]);
  });

  it('survives the server going away in the middle of a transaction: the transaction fails, nothing of it lands', async () => {
    const db = await open(await server.createDatabase(), { connectTimeoutMs: 2000 });
    await db.run('CREATE TABLE t (id TEXT)');
    try {
      await expect(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO t (id) VALUES (?)', ['cut']);
          await server.stop();
          await tx.run('INSERT INTO t (id) VALUES (?)', ['cut-2']);
        }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await server.start();
    }
    expect(await db.all('SELECT id FROM t')).toEqual([]);
  });
});
