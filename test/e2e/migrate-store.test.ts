import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresServer } from '../helpers/postgres.js';
import { Runed, runRuned } from '../helpers/runed.js';

// A single-host SQLite store moved to PostgreSQL with one command: everything is there afterwards,
// the tokens still authenticate with the same keys, the audit chain verifies, and a second copy,
// a running source or bad arguments are refused with nothing changed.

let pg: PostgresServer;
let source: Runed;
let root = '';
let alice = '';
let revoked = '';

beforeAll(async () => {
  pg = await PostgresServer.start();
  source = await Runed.start([]);
  root = await source.bootstrap();
  alice = await source.userWithToken(root, 'alice', ['readonly']);
  revoked = await source.userWithToken(root, 'bob', ['readonly']);
  const bobId = (await source.request('GET', '/v1/whoami', { token: revoked })).body.token.id as string;
  expect((await source.request('DELETE', `/v1/tokens/${bobId}`, { token: root })).status).toBe(200);
  await source.request('POST', '/v1/policies', { token: root, body: { name: 'ns-reader', rules: [{ resource: 'namespaces', verbs: ['list'] }] } });
  const reg = await source.request('POST', '/v1/registries', { token: root, body: { name: 'hub', server: 'registry.example.com', type: 'docker', username: 'ci', password: 'registry-password-1' } });
  expect(reg.status, JSON.stringify(reg.body)).toBe(201);
  expect(await source.stop()).toBe(0);
}, 60_000);

afterAll(async () => {
  await source?.cleanup();
  await pg?.destroy();
});

const keysOf = (dir: string) => ['--server-key-file', join(dir, 'server.key'), '--kek-file', join(dir, 'kek'), '--audit-key-file', join(dir, 'audit.key')];

describe('runed migrate-store', () => {
  let url = '';

  it('copies the store, counts both sides and verifies the audit chain', async () => {
    url = await pg.createDatabase();
    const r = runRuned(['migrate-store', '--from', `sqlite:${source.dataDir}`, '--to', url], pg.env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ {2}tokens +3$/m);
    expect(r.stdout).toMatch(/every table counted the same on both sides; the audit chain verifies: \d+ event\(s\)/);
    expect(r.stdout).toContain(`--store ${url}`);
  });

  it('the copy serves the same tokens with the same keys, and keeps the audit trail', async () => {
    const replica = await Runed.start(['--store', url, ...keysOf(source.dataDir)], { env: pg.env });
    try {
      expect((await replica.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
      const me = await replica.request('GET', '/v1/whoami', { token: alice });
      expect(me.status).toBe(200);
      expect(me.body.subject.name).toBe('alice');
      expect((await replica.request('GET', '/v1/whoami', { token: revoked })).status).toBe(401);
      expect((await replica.request('GET', '/v1/policies/ns-reader', { token: root })).status).toBe(200);
      const trail = await replica.request('GET', '/v1/audit?action=bootstrap', { token: root });
      expect(trail.body.items.length).toBe(1);
      // New events continue the copied chain (ids after the copied ones).
      expect((await replica.request('POST', '/v1/users', { token: root, body: { name: 'carol', policies: [] } })).status).toBe(201);
    } finally {
      await replica.cleanup();
    }
    const verify = runRuned(['audit', 'verify', '--store', url, '--data-dir', source.dataDir], pg.env);
    expect(verify.stdout + verify.stderr).toMatch(/audit trail intact/);
    expect(verify.status).toBe(0);
    // The registry password was sealed under the KEK; the copy opens it with the same key.
    const creds = runRuned(['registry', 'credentials', 'hub', '--store', url, '--data-dir', source.dataDir], pg.env);
    expect(creds.status, creds.stderr).toBe(0);
    expect(Buffer.from(JSON.parse(creds.stdout).auths['registry.example.com'].auth, 'base64').toString()).toBe('ci:registry-password-1');
  }, 60_000);

  it('refuses a destination that already holds data, and changes nothing there', async () => {
    const before = await pg.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM subjects', [], new URL(url).pathname.slice(1));
    const r = runRuned(['migrate-store', '--from', `sqlite:${source.dataDir}`, '--to', url], pg.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/nothing was copied: the destination already holds data/);
    const after = await pg.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM subjects', [], new URL(url).pathname.slice(1));
    expect(after).toEqual(before);
  });

  it('refuses while a runed serves the source', async () => {
    const running = await Runed.start([], { dataDir: source.dataDir });
    try {
      const r = runRuned(['migrate-store', '--from', `sqlite:${source.dataDir}`, '--to', await pg.createDatabase()], pg.env);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/is serving .*: stop it first/);
    } finally {
      await running.stop();
    }
  });

  it.each([
    [['--to', 'postgres://rune@127.0.0.1:5432/x'], /both --from and --to are needed/],
    [['--from', '/var/lib/runed', '--to', 'postgres://rune@127.0.0.1:5432/x'], /--from takes sqlite:DIR/],
    [['--from', 'sqlite:/tmp', '--to', 'mysql://x'], /--to takes a postgres:\/\/USER@HOST:PORT\/DB URL/],
    [['--from', 'sqlite:/tmp', '--to', 'postgres://rune:secret@127.0.0.1:5432/x'], /password/],
    [['--from'], /--from needs a value/],
  ])('bad arguments %j are refused with a clear message', (args, message) => {
    const r = runRuned(['migrate-store', ...args]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain('secret');
  });

  it('says so when the source has no store', () => {
    const r = runRuned(['migrate-store', '--from', 'sqlite:/nonexistent/runed-dir', '--to', url], pg.env);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no runed store in \/nonexistent\/runed-dir/);
  });
});
