import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Runed, runRuned, storeArgs, storeFor, type StoreTarget } from '../helpers/runed.js';
import { openStoreOf, withTestDb, type TestDb } from '../helpers/storeDb.js';

let runed: Runed | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await runed?.cleanup();
  runed = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

/** A data dir and the store beside it (its SQLite file, or its PostgreSQL database). */
interface Target {
  dataDir: string;
  store: StoreTarget;
}
const targetIn = async (dataDir: string): Promise<Target> => ({ dataDir, store: await storeFor(dataDir) });

const verify = (t: Target, ...flags: string[]) => runRuned(['audit', 'verify', '--data-dir', t.dataDir, ...storeArgs(t.store), ...flags], t.store.env);
/** Starts runed on the target's data dir and store (expected to fail here), and waits for it to exit. */
const startOn = (t: Target, ...flags: string[]) => runRuned(['--data-dir', t.dataDir, ...storeArgs(t.store), '--listen', '127.0.0.1:0', ...flags], t.store.env);
/** An id inserted by hand leaves PostgreSQL's identity sequence behind; this moves it past the rows (a no-op on SQLite). */
const syncIds = (t: Target, db: TestDb) =>
  t.store.kind === 'postgres' ? db.run("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), (SELECT MAX(id) FROM audit_events))") : Promise.resolve();

interface Row {
  id: number;
  time: number;
  actor_name: string | null;
  actor_type: string | null;
  token_id: string | null;
  action: string;
  resource: string;
  ref: string | null;
  namespace: string | null;
  outcome: string;
  message: string;
  remote_addr: string | null;
  prev_hash: string;
  hash: string;
}

const fieldsOf = (r: Row) =>
  JSON.stringify([r.prev_hash, r.time, r.actor_name, r.actor_type, r.token_id, r.action, r.resource, r.ref, r.namespace, r.outcome, r.message, r.remote_addr]);
const sha256Of = (r: Row) => createHash('sha256').update(fieldsOf(r)).digest('hex');
const hmacOf = (key: Buffer) => (r: Row) => 'h1$' + createHmac('sha256', key).update(fieldsOf(r)).digest('hex');

const INSERT_EVENT = 'INSERT INTO audit_events (id, time, actor_name, actor_type, token_id, action, resource, ref, namespace, outcome, message, remote_addr, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const eventValues = (r: Row) => [r.id, r.time, r.actor_name, r.actor_type, r.token_id, r.action, r.resource, r.ref, r.namespace, r.outcome, r.message, r.remote_addr, r.prev_hash, r.hash];

/** What an attacker with write access to the database does: edit event `from`, then recompute every hash after it. */
async function forgeFrom(t: Target, from: number, hashOf: (r: Row) => string) {
  await withTestDb(t, async (db) => {
    const rows = await db.all<Row>('SELECT * FROM audit_events ORDER BY id');
    let prev = rows.find((r) => r.id === from - 1)!.hash;
    for (const row of rows.filter((r) => r.id >= from)) {
      if (row.id === from) row.message = 'nothing happened here';
      row.prev_hash = prev;
      row.hash = hashOf(row);
      await db.run('UPDATE audit_events SET message = ?, prev_hash = ?, hash = ? WHERE id = ?', [row.message, row.prev_hash, row.hash, row.id]);
      prev = row.hash;
    }
    await db.run("UPDATE meta SET value = ? WHERE key = 'audit_head'", [prev]);
  });
}

/** `n` changes, each one an audit event (repeated failed authentications are summarised, so not those). */
async function changes(r: Runed, root: string, n: number) {
  for (let i = 0; i < n; i++) await r.request('POST', '/v1/namespaces', { token: root, body: { name: `ns-${i}` } });
}

/** A daemon with `n` audited changes after its bootstrap, stopped. */
async function trailOf(n: number) {
  runed = await Runed.start();
  const root = await runed.bootstrap();
  await changes(runed, root, n);
  const last = (await runed.request('GET', '/v1/audit?limit=1', { token: root })).body.items[0];
  await runed.stop();
  return { target: runed as Target, dataDir: runed.dataDir, lastId: last.id as number, lastHash: last.hash as string };
}

const headLines = (dataDir: string) => readFileSync(join(dataDir, 'audit.head'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));

describe('audit chain: what it stores hashes the same when read back', () => {
  it('a lone surrogate in a refused request does not break verification', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    for (const [method, path, data] of [
      ['POST', '/v1/namespaces', '{"name":"\\ud800"}'],
      ['POST', '/v1/users', '{"name":"x\\udc00y","email":"\\ud83d"}'],
      ['POST', '/v1/policies', '{"name":"p\\udfff\\ud800","rules":[]}'],
    ] as const) {
      const res = await runed.request(method, path, { token: root, raw: { contentType: 'application/json', data } });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
    }
    const refused = (await runed.request('GET', '/v1/audit?outcome=error', { token: root })).body.items;
    expect(refused.length).toBe(3);
    const result = verify(runed);
    expect(result.stdout).toMatch(/^audit trail intact: \d+ event\(s\) verified\n$/);
    expect(result.status).toBe(0);
  });
});

describe('audit chain: verify reports every break', () => {
  it('two altered events are both named, with the reason', async () => {
    const { target } = await trailOf(6);
    await withTestDb(target, (db) => db.run("UPDATE audit_events SET message = 'edited' WHERE id IN (3, 6)"));
    const result = verify(target);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(
      'audit trail BROKEN: 2 problem(s) in 7 event(s)\n' +
        '  event 3: it was altered after it was written: its HMAC does not verify under the audit key\n' +
        '  event 6: it was altered after it was written: its HMAC does not verify under the audit key\n',
    );
  });
});

describe('audit chain: keyed, with its head checkpointed outside the database', () => {
  it('hashes are HMACs under a 0600 audit key; every head is appended to audit.head and logged', async () => {
    runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.request('GET', '/v1/whoami');
    const events = (await runed.request('GET', '/v1/audit', { token: root })).body.items;
    expect(events.every((e: { hash: string }) => /^h1\$[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    for (const f of ['audit.key', 'audit.head']) expect(statSync(join(runed.dataDir, f)).mode & 0o777).toBe(0o600);
    const [marker, ...heads] = headLines(runed.dataDir);
    expect(marker).toBe(`0 ${'0'.repeat(64)}`); // a new data dir: the keyed chain starts at the beginning
    expect(heads).toEqual([...events].reverse().map((e: { id: number; hash: string }) => `${e.id} ${e.hash}`));
    for (const e of events) expect(runed.logs).toContain(`"auditHead":{"id":${e.id},"hash":"${e.hash}"},"msg":"audit head"`);
  });

  it('deleting the newest events and rewriting the recorded head is detected, and verify says how', async () => {
    const { target, dataDir, lastId, lastHash } = await trailOf(40);
    const keep = lastId - 23;
    await withTestDb(target, async (db) => {
      await db.run('DELETE FROM audit_events WHERE id > ?', [keep]);
      const newHead = (await db.get<{ hash: string }>('SELECT hash FROM audit_events WHERE id = ?', [keep]))!.hash;
      await db.run("UPDATE meta SET value = ? WHERE key = 'audit_head'", [newHead]);
    });
    const result = verify(target);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe(
      `audit trail BROKEN: 1 problem(s) in ${keep} event(s)\n` +
        `  the head checkpoint file ${join(dataDir, 'audit.head')} records event ${lastId} with hash ${lastHash}, but the database ends at event ${keep}: event(s) ${keep + 1}–${lastId} were removed\n`,
    );
  });

  it('deleting every event is detected', async () => {
    const { target, lastId } = await trailOf(5);
    await withTestDb(target, async (db) => {
      await db.run('DELETE FROM audit_events');
      await db.run("DELETE FROM meta WHERE key = 'audit_head'");
    });
    const result = verify(target);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^audit trail BROKEN: \\d+ problem\\(s\\) in 0 event\\(s\\)\\n`));
    expect(result.stdout).toContain(`records event ${lastId} with hash `);
    expect(result.stdout).toContain(`but the database has no events: event(s) 1–${lastId} were removed`);
  });

  it('cutting the database and the checkpoint file alike is caught by a head taken from the log', async () => {
    runed = await Runed.start();
    await changes(runed, await runed.bootstrap(), 12);
    await runed.stop();
    const logged = [...runed.logs.matchAll(/"auditHead":\{"id":(\d+),"hash":"([^"]+)"\}/g)].at(-1)!;
    const [lastId, lastHash] = [Number(logged[1]), logged[2]!];
    const dataDir = runed.dataDir;
    await withTestDb(runed, async (db) => {
      await db.run('DELETE FROM audit_events WHERE id > 5');
      await db.run("UPDATE meta SET value = (SELECT hash FROM audit_events WHERE id = 5) WHERE key = 'audit_head'");
    });
    const headFile = join(dataDir, 'audit.head');
    const kept = readFileSync(headFile, 'utf8').split('\n').filter((l) => !/^\d+ /.test(l) || Number(l.split(' ')[0]) <= 5);
    writeFileSync(headFile, kept.join('\n'));
    // From the data dir alone the cut is consistent: this is the limit the log line is for.
    expect(verify(runed).stdout).toBe('audit trail intact: 5 event(s) verified\n');
    const withLog = verify(runed, '--expect-head', `${lastId}:${lastHash}`);
    expect(withLog.status).toBe(1);
    expect(withLog.stdout).toBe(
      'audit trail BROKEN: 1 problem(s) in 5 event(s)\n' +
        `  the head given with --expect-head (event ${lastId}, hash ${lastHash}) is beyond the database's last event 5: event(s) 6–${lastId} were removed\n`,
    );
    expect(verify(runed, '--expect-head', `5:${lastHash}`).stdout).toContain(`  event 5: the head given with --expect-head (event 5, hash ${lastHash}) names it, the database has `);
    expect(verify(runed, '--expect-head', 'nonsense').stderr).toMatch(/--expect-head takes ID:HASH/);
  });

  it('forging an event and recomputing the chain after it fails without the key, with either hash', async () => {
    const { target, lastId } = await trailOf(30);
    const from = 20;
    await forgeFrom(target, from, sha256Of);
    const unkeyed = verify(target);
    expect(unkeyed.status).toBe(1);
    for (let id = from; id <= lastId; id++) expect(unkeyed.stdout).toContain(`\n  event ${id}: it carries an unkeyed hash after the chain was keyed`);
    expect(unkeyed.stdout).not.toContain(`event ${from - 1}:`);

    await forgeFrom(target, from, hmacOf(randomBytes(32)));
    const guessed = verify(target);
    expect(guessed.status).toBe(1);
    for (let id = from; id <= lastId; id++) expect(guessed.stdout).toContain(`\n  event ${id}: it was altered after it was written: its HMAC does not verify under the audit key`);
  });

  it('even with the key, a rewritten event disagrees with the checkpoint file', async () => {
    const { target, dataDir, lastId } = await trailOf(10);
    const key = Buffer.from(readFileSync(join(dataDir, 'audit.key'), 'utf8').trim(), 'base64');
    await forgeFrom(target, 8, hmacOf(key));
    const result = verify(target);
    expect(result.status).toBe(1);
    expect(result.stdout).not.toContain('HMAC does not verify');
    for (let id = 8; id <= lastId; id++) expect(result.stdout).toMatch(new RegExp(`\\n  event ${id}: the head checkpoint file records it with hash \\S+ \\(line \\d+\\), the database has \\S+: it was rewritten\\n`));
  });

  it('a missing checkpoint file or audit key is reported, and runed will not start without its key', async () => {
    const { target, dataDir } = await trailOf(2);
    const key = readFileSync(join(dataDir, 'audit.key'));
    rmSync(join(dataDir, 'audit.key'));
    const noKey = verify(target);
    expect(noKey.status).toBe(1);
    expect(noKey.stdout).toContain(`the audit key ${join(dataDir, 'audit.key')} is missing: 3 keyed event(s) cannot be checked`);
    const start = startOn(target);
    expect(start.status).toBe(1);
    expect(start.stderr).toBe(`runed: the audit key ${join(dataDir, 'audit.key')} is missing, but the audit trail is keyed with it: restore the file (a new key would leave every event unverifiable)\n`);
    expect(existsSync(join(dataDir, 'audit.key'))).toBe(false);
    writeFileSync(join(dataDir, 'audit.key'), key, { mode: 0o600 });

    rmSync(join(dataDir, 'audit.head'));
    const noHead = verify(target);
    expect(noHead.status).toBe(1);
    expect(noHead.stdout).toContain(`the head checkpoint file ${join(dataDir, 'audit.head')} is missing: a truncated or rewritten chain cannot be ruled out`);
    // A restart starts a new file, but marks it: what was removed before it can no longer be told.
    runed = await Runed.start([], { dataDir });
    await runed.stop();
    const recreated = verify(target);
    expect(recreated.status).toBe(1);
    expect(recreated.stdout).toMatch(/the head checkpoint file \S+ was recreated at \S+ because it was missing: events removed before then cannot be detected/);
  });

  it('the checkpoint file can live elsewhere; a start that cannot open it fails clearly and leaves nothing half-made', async () => {
    const dataDir = tempDir('runed-headfile-');
    const target = await targetIn(dataDir);
    const bad = startOn(target, '--audit-head-file', '/nonexistent/dir/audit.head');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe('runed: cannot open the audit head checkpoint file /nonexistent/dir/audit.head: ENOENT\n');
    expect(existsSync(join(dataDir, 'audit.key'))).toBe(false);

    const elsewhere = join(tempDir('runed-headfile-elsewhere-'), 'audit.head');
    runed = await Runed.start(['--audit-head-file', elsewhere], { dataDir });
    await runed.bootstrap();
    await runed.stop();
    expect(existsSync(join(dataDir, 'audit.head'))).toBe(false);
    expect(readFileSync(elsewhere, 'utf8')).toMatch(/^# runed audit head checkpoints.*\n0 0{64}\n1 h1\$[0-9a-f]{64}\n$/);
    expect(verify(target, '--audit-head-file', elsewhere).stdout).toBe('audit trail intact: 1 event(s) verified\n');
    expect(verify(target).stdout).toContain(`the head checkpoint file ${join(dataDir, 'audit.head')} is missing`);
  });

  it('an unkeyed trail of an older runed verifies, is keyed from the next start, and unkeyed events after that are refused', async () => {
    const dataDir = tempDir('runed-legacy-');
    const target = await targetIn(dataDir);
    // An older runed's trail: SHA-256 chained, no key, no checkpoint file.
    await (await openStoreOf(target, false)).close();
    let prev = '0'.repeat(64);
    await withTestDb(target, async (db) => {
      for (let i = 1; i <= 3; i++) {
        const row = { id: i, time: 1_700_000_000_000 + i, actor_name: 'root', actor_type: 'user', token_id: null, action: 'create', resource: 'users', ref: `u${i}`, namespace: null, outcome: 'success', message: '', remote_addr: '127.0.0.1', prev_hash: prev, hash: '' };
        row.hash = sha256Of(row);
        await db.run(INSERT_EVENT, eventValues(row));
        prev = row.hash;
      }
      await syncIds(target, db);
      await db.run("INSERT INTO meta (key, value) VALUES ('audit_head', ?)", [prev]);
    });
    const old = verify(target);
    expect(old.stdout).toBe(`audit trail intact: 3 event(s) verified\nwarning: the chain is not keyed (written by an older runed): its next start keys it and starts ${join(dataDir, 'audit.head')}\n`);
    expect(old.status).toBe(0);

    runed = await Runed.start([], { dataDir });
    await runed.bootstrap();
    await runed.stop();
    expect(headLines(dataDir)[0]).toBe(`3 ${prev}`); // the keyed chain starts after the older runed's last event
    const upgraded = verify(target);
    expect(upgraded.stdout).toBe('audit trail intact: 4 event(s) verified\n');

    const forged = await withTestDb(target, async (db) => {
      const head = (await db.get<Row>('SELECT * FROM audit_events ORDER BY id DESC LIMIT 1'))!;
      const row = { ...head, id: head.id + 1, message: 'forged', prev_hash: head.hash };
      row.hash = sha256Of(row);
      await db.run(INSERT_EVENT, eventValues(row));
      await syncIds(target, db);
      return row;
    });
    const downgraded = verify(target);
    expect(downgraded.status).toBe(1);
    expect(downgraded.stdout).toContain(`  event ${forged.id}: it carries an unkeyed hash after the chain was keyed: it was written without the audit key\n`);
  });
});

describe('audit chain: appends inside a transaction', () => {
  async function openStore() {
    const target = await targetIn(tempDir('runed-audit-tx-'));
    return { target, dataDir: target.dataDir, store: await openStoreOf(target) };
  }
  const event = (ref: string) => ({ action: 'create', resource: 'users', ref, outcome: 'success' as const });

  it('an event appended in a transaction is checkpointed only after the commit, and not at all if it rolls back', async () => {
    const { target, dataDir, store } = await openStore();
    try {
      await store.audit.append(event('first'));
      const before = headLines(dataDir);
      await store.transaction(async (tx) => {
        await tx.audit.append(event('second'));
        await tx.audit.append(event('third'));
        expect(headLines(dataDir)).toEqual(before); // not yet committed: the file must not claim it
      });
      const afterCommit = headLines(dataDir);
      expect(afterCommit.length).toBe(before.length + 1);
      const head = (await store.audit.head())!;
      expect(afterCommit.at(-1)).toBe(`${head.id} ${head.hash}`);

      await expect(
        store.transaction(async (tx) => {
          await tx.audit.append(event('rolled-back'));
          throw new Error('the change fails');
        }),
      ).rejects.toThrow('the change fails');
      expect(headLines(dataDir)).toEqual(afterCommit);
      expect((await store.audit.head())!.id).toBe(3);
    } finally {
      await store.close();
    }
    expect(verify(target).stdout).toBe('audit trail intact: 3 event(s) verified\n');
  });

  it('a commit whose checkpoint was lost in a crash is a warning, and the next checkpoint covers it', async () => {
    const { target, dataDir, store } = await openStore();
    try {
      await store.audit.append(event('a'));
      // A crash between commit and checkpoint: the event is committed (on the engine, past Store.transaction), its line never written.
      await store.engine.transaction((sql) => store.viewOn(sql).audit.append(event('b')));
      const crashed = verify(target);
      expect(crashed.status).toBe(0);
      expect(crashed.stdout).toBe(
        `audit trail intact: 2 event(s) verified\nwarning: 1 event(s) after event 1, the last head in ${join(dataDir, 'audit.head')}, are not checkpointed: expected only for the last commit before a crash; their removal would not show\n`,
      );
      await store.audit.append(event('c'));
    } finally {
      await store.close();
    }
    expect(verify(target).stdout).toBe('audit trail intact: 3 event(s) verified\n');
  });
});
