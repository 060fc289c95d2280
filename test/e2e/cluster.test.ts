import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresServer } from '../helpers/postgres.js';
import { eventually, Runed, runRuned } from '../helpers/runed.js';

// Three runed replicas on one PostgreSQL database, as behind a load balancer: what one writes the
// others honour, a revocation reaches them all, one dying loses nothing acknowledged, and without
// the database they all fail closed and come back by themselves.

let pg: PostgresServer;
const keyDirs: string[] = [];

/** Replicas sharing one database and one set of keys (the first one creates them). */
async function startCluster(n: number, url: string): Promise<Runed[]> {
  const keys = mkdtempSync(join(tmpdir(), 'rune-cluster-keys-'));
  keyDirs.push(keys);
  const args = ['--store', url, '--server-key-file', join(keys, 'server.key'), '--kek-file', join(keys, 'kek'), '--audit-key-file', join(keys, 'audit.key')];
  const first = await Runed.start(args, { env: pg.env });
  const rest = await Promise.all(Array.from({ length: n - 1 }, () => Runed.start(args, { env: pg.env })));
  return [first, ...rest];
}

beforeAll(async () => {
  pg = await PostgresServer.start();
}, 60_000);

afterAll(async () => {
  await pg?.destroy();
  for (const dir of keyDirs) rmSync(dir, { recursive: true, force: true });
});

describe('three replicas on one PostgreSQL', () => {
  let replicas: Runed[] = [];
  let root = '';

  beforeAll(async () => {
    replicas = await startCluster(3, await pg.createDatabase());
    root = await replicas[0]!.bootstrap();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.cleanup()));
  });

  it('a token created through one replica works through the other two', async () => {
    const [a, b, c] = replicas as [Runed, Runed, Runed];
    const secret = await a.userWithToken(root, 'alice', ['readonly']);
    for (const r of [b, c]) {
      const me = await r.request('GET', '/v1/whoami', { token: secret });
      expect(me.status, r.logs).toBe(200);
      expect(me.body.subject.name).toBe('alice');
    }
  });

  it('a revocation through one replica is refused by the others, and stays refused', async () => {
    const [a, b, c] = replicas as [Runed, Runed, Runed];
    const secret = await a.userWithToken(root, 'bob', ['readonly']);
    // Warm the other replicas' caches with the token first: the revocation must reach a cached grant.
    for (const r of [b, c]) expect((await r.request('GET', '/v1/whoami', { token: secret })).status).toBe(200);
    const id = (await a.request('GET', '/v1/whoami', { token: secret })).body.token.id as string;
    expect((await a.request('DELETE', `/v1/tokens/${id}`, { token: root })).status).toBe(200);
    for (const r of [b, c]) {
      await eventually('the other replica refuses the revoked token', async () => (await r.request('GET', '/v1/whoami', { token: secret })).status === 401, 5_000, 5);
      for (let i = 0; i < 5; i++) expect((await r.request('GET', '/v1/whoami', { token: secret })).status).toBe(401);
      // Each replica measured how long A's changes took to reach it.
      const metrics = (await r.request('GET', '/metrics')).body as string;
      const count = Number(/^rune_change_propagation_seconds_count (\d+)/m.exec(metrics)?.[1] ?? 0);
      expect(count).toBeGreaterThan(0);
    }
  });

  it('a policy change through one replica changes what the others allow', async () => {
    const [a, b] = replicas as [Runed, Runed];
    await a.request('POST', '/v1/policies', { token: root, body: { name: 'ns-reader', rules: [{ resource: 'namespaces', verbs: ['list'] }] } });
    const secret = await a.userWithToken(root, 'carol', ['ns-reader']);
    expect((await b.request('GET', '/v1/namespaces', { token: secret })).status).toBe(200);
    const put = await a.request('PUT', '/v1/policies/ns-reader', { token: root, body: { name: 'ns-reader', rules: [{ resource: 'users', verbs: ['list'] }] } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    await eventually('the other replica applies the new rules', async () => (await b.request('GET', '/v1/namespaces', { token: secret })).status === 403, 5_000, 5);
  });

  it('one replica killed during a write burst: the others keep serving and every acknowledged write is there', async () => {
    const [a, b, c] = replicas as [Runed, Runed, Runed];
    const acknowledged: string[] = [];
    let sent = 0;
    const writer = async (r: Runed) => {
      for (;;) {
        const n = sent++;
        if (n >= 90) return;
        const res = await r.request('POST', '/v1/tokens', { token: root, body: { name: `burst-${n}`, subjectName: 'alice', ttl: '1h' } }).catch(() => undefined);
        if (res?.status === 201) acknowledged.push(res.body.token.id as string);
        if (!res && r === c) return; // the killed replica: its connection is gone
      }
    };
    const writers = [a, b, c, a, b, c].map(writer);
    await eventually('the burst is under way', () => sent >= 20, 10_000, 5);
    await c.stop('SIGKILL');
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(20);
    const listed = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await a.request('GET', `/v1/tokens?subject=alice&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: root });
      expect(page.status).toBe(200);
      for (const t of page.body.items) listed.add(t.id);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(acknowledged.filter((id) => !listed.has(id))).toEqual([]);
    expect((await b.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
  }, 60_000);

  it('without the database every replica answers 503 (never a stale 200), and recovers when it returns', async () => {
    const live = replicas.filter((r) => r.proc.exitCode === null && r.proc.signalCode === null);
    expect(live.length).toBeGreaterThanOrEqual(2);
    const secret = await live[0]!.userWithToken(root, 'dave', ['readonly']);
    const id = (await live[0]!.request('GET', '/v1/whoami', { token: secret })).body.token.id as string;
    await live[0]!.request('DELETE', `/v1/tokens/${id}`, { token: root });
    for (const r of live) await eventually('revoked everywhere', async () => (await r.request('GET', '/v1/whoami', { token: secret })).status === 401, 5_000, 5);
    await pg.stop();
    try {
      for (const r of live) {
        // Each replica sees the loss (its listening connection drops), then refuses everything.
        await eventually('the replica fails closed', async () => (await r.request('GET', '/v1/whoami', { token: root })).status === 503, 10_000);
        const revoked = await r.request('GET', '/v1/whoami', { token: secret });
        expect(revoked.status).toBe(503);
        expect(revoked.body.error.message).toMatch(/database/i);
        expect((await r.request('GET', '/readyz')).status).toBe(503);
        expect((await r.request('GET', '/healthz')).status).toBe(200);
      }
    } finally {
      await pg.start();
    }
    for (const r of live) {
      await eventually('the replica recovers without a restart', async () => (await r.request('GET', '/v1/whoami', { token: root })).status === 200, 30_000);
      expect((await r.request('GET', '/v1/whoami', { token: secret })).status).toBe(401);
      expect((await r.request('GET', '/readyz')).status).toBe(200);
      expect(r.logs).toMatch(/lost the database/i);
      expect(r.logs).toMatch(/database.*(reachable|back)/i);
    }
  }, 90_000);
});

describe('one-per-cluster work', () => {
  it('50 concurrent bootstraps spread over three replicas: exactly one succeeds', async () => {
    const replicas = await startCluster(3, await pg.createDatabase());
    try {
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => replicas[i % 3]!.request('POST', '/v1/bootstrap')));
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    } finally {
      await Promise.all(replicas.map((r) => r.cleanup()));
    }
  }, 60_000);

  it('a replica with another server.key refuses to start instead of refusing every token', async () => {
    const url = await pg.createDatabase();
    const [first] = await startCluster(1, url);
    try {
      const other = mkdtempSync(join(tmpdir(), 'rune-other-key-'));
      keyDirs.push(other);
      const r = runRuned(['--listen', '127.0.0.1:0', '--data-dir', other, '--store', url], pg.env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/this server\.key is not the key the store's tokens were hashed with/);
    } finally {
      await first!.cleanup();
    }
  }, 60_000);

  it('the audit trail stays one chain across replicas', async () => {
    const replicas = await startCluster(3, await pg.createDatabase());
    try {
      const root = await replicas[0]!.bootstrap();
      await Promise.all(Array.from({ length: 30 }, (_, i) => replicas[i % 3]!.request('POST', '/v1/users', { token: root, body: { name: `u${i}`, policies: [] } })));
      const events = (await replicas[1]!.request('GET', '/v1/audit?limit=500', { token: root })).body.items as { id: number; prevHash: string; hash: string }[];
      const byId = [...events].sort((x, y) => x.id - y.id);
      for (let i = 1; i < byId.length; i++) expect(byId[i]!.prevHash, `event ${byId[i]!.id}`).toBe(byId[i - 1]!.hash);
    } finally {
      await Promise.all(replicas.map((r) => r.cleanup()));
    }
  }, 60_000);
});

describe('a rolling upgrade: a newer replica changes the tables under a running one', () => {
  it('columns added, and a column type changed, by a later migration: every read and write still answers', async () => {
    const url = await pg.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const [old] = await startCluster(1, url);
    const r = old!;
    try {
      const root = await r.bootstrap();
      const alice = await r.userWithToken(root, 'alice', ['readonly']);
      const aliceToken = (await r.request('GET', '/v1/whoami', { token: alice })).body.token.id as string;
      expect((await r.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'ci', permissions: ['cast'] } })).status).toBe(201);
      expect((await r.request('POST', '/v1/registries', { token: root, body: { name: 'hub', server: 'registry.example.com', type: 'docker', username: 'u', password: 'p' } })).status).toBe(201);
      const reads = [
        '/v1/namespaces', '/v1/namespaces/default', '/v1/policies', '/v1/policies/readonly', '/v1/users', '/v1/users/alice',
        '/v1/serviceaccounts', '/v1/serviceaccounts/ci', '/v1/tokens', `/v1/tokens/${aliceToken}`, '/v1/tokens?selector=subject%3Dalice',
        '/v1/audit?limit=5', '/v1/registries', '/v1/registries/hub', '/v1/trusts',
      ];
      const readAll = async (when: string) => {
        // Several rounds, so each statement is prepared on more than one pooled connection.
        for (let round = 0; round < 3; round++) {
          for (const path of reads) {
            const res = await r.request('GET', path, { token: root });
            expect(res.status, `${when}: GET ${path}: ${JSON.stringify(res.body)}`).toBe(200);
          }
          expect((await r.request('GET', '/v1/whoami', { token: alice })).status, `${when}: alice`).toBe(200);
        }
      };
      await readAll('before');
      for (const table of ['namespaces', 'policies', 'subjects', 'tokens', 'audit_events', 'registries', 'trusts']) {
        await pg.query(`ALTER TABLE ${table} ADD COLUMN added_later TEXT NOT NULL DEFAULT 'new'`, [], database);
      }
      await readAll('after columns were added');
      // A changed type changes the rows a statement answers: it is prepared again, not failed.
      await pg.query('ALTER TABLE policies ALTER COLUMN description TYPE VARCHAR(4096)', [], database);
      expect((await r.request('GET', '/v1/policies', { token: root })).status).toBe(200);
      await readAll('after a type changed');
      const minted = await r.request('POST', '/v1/tokens', { token: root, body: { name: 'after-upgrade', subjectName: 'alice' } });
      expect(minted.status).toBe(201);
      expect((await r.request('GET', '/v1/whoami', { token: minted.body.secret })).status).toBe(200);
      expect(r.logs).not.toMatch(/cached plan/);
    } finally {
      await r.cleanup();
    }
  }, 60_000);
});
