import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerKey } from '../../src/daemon/crypto.js';
import { issueToken } from '../../src/daemon/issue.js';
import { displayWidth } from '../../src/format/width.js';
import { Cli } from '../helpers/rune.js';
import { eventually, Runed } from '../helpers/runed.js';
import { openStoreOf } from '../helpers/storeDb.js';

// More tokens than the search window (4096), so a rare match takes the trigram index.
const BULK = 5000;

/** ?search= and ?sort= on the list endpoints, against a real runed holding 5,000+ tokens. */
describe('list search and sort', () => {
  let runed: Runed;
  let root: string;
  let needleId: string;

  const get = async (path: string, token = root) => runed.request('GET', path, { token });
  /** Every page of a query, following nextCursor. */
  const walk = async (path: string, limit: number) => {
    const items: { id: string; name: string }[] = [];
    let cursor: string | undefined;
    let first: { total?: number; totalCapped?: boolean } | undefined;
    do {
      const res = await get(`${path}${path.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      first ??= res.body;
      items.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    return { items, first: first! };
  };

  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
    await runed.stop();
    const store = await openStoreOf(runed);
    const key = loadServerKey(runed.dataDir);
    const owner = (await store.subjects.getByName('root'))!;
    const now = Date.now();
    await store.transaction(async (tx) => {
      for (let i = 0; i < BULK; i++) await issueToken(tx, key, { subject: owner, name: `bulk-${i}`, policies: [], ttlMs: i % 2 ? 86_400_000 * (i % 90) + 1 : null, description: 'bulk', kind: 'derived', now: now - BULK + i });
      needleId = (await issueToken(tx, key, { subject: owner, name: 'ci-NEEDLE-a', policies: [], ttlMs: null, description: '', kind: 'derived', now })).row.id;
      await issueToken(tx, key, { subject: owner, name: 'laptop', policies: [], ttlMs: null, description: 'has a needle in it', kind: 'derived', now: now + 1 });
      await issueToken(tx, key, { subject: owner, name: 'wild', policies: [], ttlMs: null, description: '100%_sure 東京 🚀', kind: 'derived', now: now + 2 });
    });
    await store.close();
    runed = await Runed.start([], { dataDir: runed.dataDir });
  }, 60_000);
  afterAll(async () => runed.cleanup());

  it('finds a rare substring among 5,000 tokens in any case, with the server count', async () => {
    for (const q of ['needle', 'NEEDLE', 'NeEdLe']) {
      const res = await get(`/v1/tokens?search=${q}`);
      expect(res.body.items.map((t: { name: string }) => t.name)).toEqual(['ci-NEEDLE-a', 'laptop']);
      expect(res.body.total).toBe(2);
      expect(res.body.nextCursor).toBeUndefined();
    }
  });

  it('matches name, subject, description and id; % and _ are literal', async () => {
    expect((await get(`/v1/tokens?search=${needleId.slice(4, 14)}`)).body.items.map((t: { id: string }) => t.id)).toEqual([needleId]);
    expect((await get('/v1/tokens?search=in%20it')).body.items.map((t: { name: string }) => t.name)).toEqual(['laptop']);
    // A common match is counted up to 1000 (the first page fills from the sort index).
    expect((await get('/v1/tokens?search=root&limit=1')).body).toMatchObject({ total: 1000, totalCapped: true });
    expect((await get(`/v1/tokens?search=${encodeURIComponent('0%_s')}`)).body.items.map((t: { name: string }) => t.name)).toEqual(['wild']);
    expect((await get(`/v1/tokens?search=${encodeURIComponent('%')}`)).body.total).toBe(1);
    expect((await get(`/v1/tokens?search=${encodeURIComponent('東京')}`)).body.items.map((t: { name: string }) => t.name)).toEqual(['wild']);
  });

  it('pages a match in any sort without gaps or repeats, with its exact count when it is rare in that order', async () => {
    const expected = Array.from({ length: BULK }, (_, i) => `bulk-${i}`).filter((n) => n.includes('bulk-1'));
    const { items, first } = await walk('/v1/tokens?search=bulk-1&sort=-name', 250);
    expect(items.map((t) => t.name)).toEqual([...expected].sort().reverse());
    // In -name order bulk-1… comes after 8,888 other names: the trigram index answers, and counts exactly.
    expect(first.total).toBe(expected.length);
    expect(first.totalCapped).toBeUndefined();
    const byName = await walk('/v1/tokens?search=bulk-1&sort=name', 333);
    expect(byName.items.map((t) => t.name)).toEqual([...expected].sort());
  });

  it('sorts by expiry (never last) and by last use across pages', async () => {
    const { items } = await walk('/v1/tokens?sort=expires&search=bulk', 700);
    expect(items).toHaveLength(BULK);
    const expiries = items.map((t: { expiresAt?: string }) => (t.expiresAt ? Date.parse(t.expiresAt) : Infinity));
    expect(expiries).toEqual([...expiries].sort((a, b) => a - b));
    expect(new Set(items.map((t) => t.id)).size).toBe(BULK);
    const me = (await get('/v1/whoami')).body.token.id;
    // lastUsedAt is written in batches: wait until this token's use shows.
    await eventually('this token\'s lastUsedAt to be written', async () => (await get(`/v1/tokens/${me}`)).body.lastUsedAt);
    const used = await walk('/v1/tokens?sort=-lastUsed', 1000);
    expect(used.items[0]!.id).toBe(me);
    expect(used.items.slice(1).every((t: { lastUsedAt?: string }) => t.lastUsedAt === undefined)).toBe(true);
  });

  it('says which value is wrong: sort, search, a cursor of another sort', async () => {
    const bad = await get('/v1/tokens?sort=color');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ details: { field: 'sort' } });
    expect(bad.body.error.message).toMatch(/sort must be one of created, -created, name, -name, subject, -subject, expires, -expires, lastUsed, -lastUsed/);
    // Names every object has are not columns: a 400 naming the field, never a 500 from the database.
    for (const list of ['/v1/tokens', '/v1/users', '/v1/serviceaccounts']) {
      for (const sort of ['constructor', '-toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const answer = await get(`${list}?sort=${sort}`);
        expect([list, sort, answer.status, answer.body.error?.details?.field]).toEqual([list, sort, 400, 'sort']);
      }
    }
    expect((await get(`/v1/tokens?search=${'x'.repeat(201)}`)).body.error.details.field).toBe('search');
    const page = await get('/v1/tokens?sort=name&limit=2');
    const mixed = await get(`/v1/tokens?sort=-name&cursor=${page.body.nextCursor}`);
    expect([mixed.status, mixed.body.error.details.field]).toEqual([400, 'cursor']);
    expect(mixed.body.error.message).toMatch(/cursor belongs to sort "name"/);
  });

  it('users and service accounts: search, sort, paged', async () => {
    for (const name of ['zed', 'amy', 'bob-needle']) await runed.request('POST', '/v1/users', { token: root, body: { name, ...(name === 'amy' ? { email: 'amy@needle.example' } : {}) } });
    expect((await get('/v1/users?search=NEEDLE')).body).toMatchObject({ items: [{ name: 'amy' }, { name: 'bob-needle' }], total: 2 });
    const desc = await walk('/v1/users?sort=-name', 1);
    expect(desc.items.map((u) => u.name)).toEqual(['zed', 'root', 'bob-needle', 'amy']);
    const created = await walk('/v1/users?sort=created', 2);
    expect(created.items.map((u) => u.name)).toEqual(['root', 'zed', 'amy', 'bob-needle']);
    expect((await get('/v1/users?sort=email')).body.error.details.field).toBe('sort');
    await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'ci-stg', namespace: 'stg' } });
    await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'deployer' } });
    expect((await get('/v1/serviceaccounts?search=STG')).body).toMatchObject({ items: [{ name: 'ci-stg' }], total: 1 });
    expect((await get('/v1/serviceaccounts?sort=-name')).body.items.map((s: { name: string }) => s.name)).toEqual(['deployer', 'ci-stg']);
  });

  it('audit: search and the outcome filter on the server, paged past 1,000 events', async () => {
    const bob = await runed.userWithToken(root, 'bob', ['readonly']);
    for (let i = 0; i < 3; i++) await runed.request('POST', '/v1/users', { token: bob, body: { name: `nope-${i}` } });
    const denied = await walk('/v1/audit?outcome=denied&search=users', 1);
    expect(denied.items.length).toBe(3);
    expect(new Set(denied.items.map((e) => e.id)).size).toBe(3);
    expect((await get('/v1/audit?search=BOB&outcome=success')).body.items.every((e: { outcome: string }) => e.outcome === 'success')).toBe(true);
    // Every event, newest first, in pages of 1000: nothing is dropped past the first thousand.
    for (let i = 0; i < 1010; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => runed.request('POST', '/v1/namespaces', { token: root, body: { name: `ns-${i + j}` } })));
    const all = await walk('/v1/audit', 1000);
    expect(all.items.length).toBeGreaterThan(1000);
    const ids = all.items.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  }, 60_000);

  it('rune admin token list --search --sort, users and audit --search, against the same daemon', () => {
    const cli = new Cli();
    const server = runed.url.replace('http://', '');
    const env = { RUNE_SERVER: server, RUNE_TOKEN: root };
    const out = cli.ok(['admin', 'token', 'list', '--search', 'needle', '--sort', '-name', '-o', 'json'], { env });
    expect(JSON.parse(out).map((t: { name: string }) => t.name)).toEqual(['laptop', 'ci-NEEDLE-a']);
    const bad = cli.run(['admin', 'token', 'list', '--sort', 'color'], { env });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/sort must be one of created, -created, name/);
    expect(JSON.parse(cli.ok(['admin', 'user', 'list', '--search', 'needle', '-o', 'json'], { env })).map((u: { name: string }) => u.name)).toEqual(['amy', 'bob-needle']);
    expect(JSON.parse(cli.ok(['admin', 'service', 'list', '--sort', '-created', '-o', 'json'], { env })).map((u: { name: string }) => u.name)).toEqual(['deployer', 'ci-stg']);
    const audit = JSON.parse(cli.ok(['admin', 'audit', '--search', 'nope-', '--outcome', 'denied', '-o', 'json'], { env }));
    expect(audit.length).toBe(3);
  });

  it('the CLI table measures terminal cells: a CJK or emoji name keeps the next columns aligned', async () => {
    for (const name of ['日本語-cli', '🚀-cli', 'ascii-cli']) await runed.request('POST', '/v1/tokens', { token: root, body: { name } });
    const cli = new Cli();
    const out = cli.ok(['admin', 'token', 'list', '--search', '-cli', '--sort', 'name'], { env: { RUNE_SERVER: runed.url.replace('http://', ''), RUNE_TOKEN: root } });
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    const subjectAt = (line: string) => displayWidth(line.slice(0, line.search(/ {3}(SUBJECT|root)/)));
    expect(new Set(lines.map(subjectAt)).size).toBe(1);
  });
});
