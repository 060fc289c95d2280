import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';

// GET /v1/tokens answers from a page cache (src/daemon/pageCache.ts): each test lists, changes
// something, and lists again at once, well inside the cache's second, with the same query.
describe('the token list page cache', () => {
  let runed: Runed;
  let root: string;
  let carol: string;
  let dave: string;
  const PAGE = '/v1/tokens?limit=100';

  beforeAll(async () => {
    runed = await Runed.start(['--set', 'auth.failedAuthLimit=1000']);
    root = await runed.bootstrap();
    // cast holds no right on tokens: its holders see their own tokens only.
    carol = await runed.userWithToken(root, 'carol', ['cast']);
    dave = await runed.userWithToken(root, 'dave', ['cast']);
  });
  afterAll(async () => runed.cleanup());

  type Item = { id: string; subjectName: string; status: string };
  const list = async (token: string, path = PAGE) => {
    const res = await runed.request<{ items: Item[] }>('GET', path, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.items;
  };
  const statusOf = async (token: string, id: string) => (await list(token)).find((t) => t.id === id)?.status;
  const create = async (token: string, body: Record<string, unknown>) => {
    const res = await runed.request('POST', '/v1/tokens', { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { token: { id: string }; secret: string };
  };

  it('shows a revoke, a disable and a shortened ttl on the very next list', async () => {
    const revoked = await create(carol, { name: 'cache-revoked' });
    const disabled = await create(carol, { name: 'cache-disabled' });
    const shortened = await create(carol, { name: 'cache-shortened', ttl: '1h' });
    for (let i = 0; i < 2; i++) expect(await statusOf(carol, revoked.token.id)).toBe('active');
    expect((await runed.request('DELETE', `/v1/tokens/${revoked.token.id}`, { token: carol })).status).toBe(200);
    expect(await statusOf(carol, revoked.token.id)).toBe('revoked');
    expect(await statusOf(carol, disabled.token.id)).toBe('active');
    expect((await runed.request('PATCH', `/v1/tokens/${disabled.token.id}`, { token: carol, body: { enabled: false } })).status).toBe(200);
    expect(await statusOf(carol, disabled.token.id)).toBe('disabled');
    expect(await statusOf(carol, shortened.token.id)).toBe('active');
    expect((await runed.request('PATCH', `/v1/tokens/${shortened.token.id}`, { token: carol, body: { ttl: '1ms' } })).status).toBe(200);
    expect(await statusOf(carol, shortened.token.id)).toBe('expired');
  });

  it('never serves one caller the page of another with the same query', async () => {
    const everyone = await list(root);
    expect(new Set(everyone.map((t) => t.subjectName))).toEqual(new Set(['root', 'carol', 'dave']));
    const carols = await list(carol);
    expect(carols.length).toBeGreaterThan(0);
    expect(carols.every((t) => t.subjectName === 'carol')).toBe(true);
    const daves = await list(dave);
    expect(daves.length).toBeGreaterThan(0);
    expect(daves.every((t) => t.subjectName === 'dave')).toBe(true);
    // And back: the admin's page is still everyone's, not the last caller's.
    expect((await list(root)).length).toBe(everyone.length);
    // A caller naming another subject sees nothing, even right after that subject's own list.
    expect(await list(dave, `${PAGE}&subject=carol`)).toEqual([]);
  });

  it('a narrowed token sees itself only, right after its unnarrowed sibling listed', async () => {
    const erin = await runed.userWithToken(root, 'erin', ['admin']);
    const narrowed = await create(erin, { name: 'erin-narrowed', policies: ['cast'] });
    expect((await list(erin)).length).toBe((await list(root)).length);
    const seen = await list(narrowed.secret);
    expect(seen.map((t) => t.id)).toEqual([narrowed.token.id]);
    expect((await list(erin)).some((t) => t.subjectName === 'carol')).toBe(true);
    expect((await list(narrowed.secret)).map((t) => t.id)).toEqual([narrowed.token.id]);
  });

  it('shows a policy change on the next list of the same caller', async () => {
    expect((await list(carol)).every((t) => t.subjectName === 'carol')).toBe(true);
    expect((await runed.request('PUT', '/v1/users/carol/policies/admin', { token: root })).status).toBe(200);
    expect((await list(carol)).some((t) => t.subjectName === 'dave')).toBe(true);
    expect((await runed.request('DELETE', '/v1/users/carol/policies/admin', { token: root })).status).toBe(200);
    expect((await list(carol)).every((t) => t.subjectName === 'carol')).toBe(true);
  });

  it('shows a token created by another caller on the admin\'s next list', async () => {
    const before = (await list(root)).length;
    const made = await create(dave, { name: 'cache-new' });
    expect((await list(root)).map((t) => t.id)).toContain(made.token.id);
    expect((await list(root)).length).toBe(before + 1);
  });
});
