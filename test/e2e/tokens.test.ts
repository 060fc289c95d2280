import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Runed } from '../helpers/runed.js';
import { mintToken, parseToken } from '../../src/core/tokenFormat.js';

const GENERIC = { error: { code: 'unauthenticated', message: 'invalid or expired token' } };

describe('tokens against one daemon', () => {
  let runed: Runed;
  let root: string;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    runed = await Runed.start(['--set', 'auth.failedAuthLimit=1000']);
    root = await runed.bootstrap();
    alice = await runed.userWithToken(root, 'alice', ['readwrite']);
    bob = await runed.userWithToken(root, 'bob', ['readonly']);
  });
  afterAll(async () => runed.cleanup());

  const create = async (token: string, body: Record<string, unknown>) => {
    const res = await runed.request('POST', '/v1/tokens', { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { token: { id: string; expiresAt?: string; createdAt: string }; secret: string };
  };

  describe('every token state on the next request', () => {
    it('active → 200', async () => {
      const t = await create(alice, { name: 'state-active' });
      expect((await runed.request('GET', '/v1/whoami', { token: t.secret })).status).toBe(200);
    });

    it('expired → 401 generic', async () => {
      const t = await create(alice, { name: 'state-expired', ttl: '1h' });
      // The owner reduces the lifetime below the token's age: it is expired from now on.
      const patched = await runed.request('PATCH', `/v1/tokens/${t.token.id}`, { token: alice, body: { ttl: '1ms' } });
      expect(patched.body.status).toBe('expired');
      const res = await runed.request('GET', '/v1/whoami', { token: t.secret });
      expect([res.status, res.body]).toEqual([401, GENERIC]);
    });

    it('disabled → 401 generic, and enabled again → 200', async () => {
      const t = await create(alice, { name: 'state-disabled' });
      expect((await runed.request('PATCH', `/v1/tokens/${t.token.id}`, { token: alice, body: { enabled: false } })).body.status).toBe('disabled');
      const res = await runed.request('GET', '/v1/whoami', { token: t.secret });
      expect([res.status, res.body]).toEqual([401, GENERIC]);
      expect((await runed.request('PATCH', `/v1/tokens/${t.token.id}`, { token: alice, body: { enabled: true } })).body.status).toBe('active');
      expect((await runed.request('GET', '/v1/whoami', { token: t.secret })).status).toBe(200);
    });

    it('revoked → 401 generic on the very next request', async () => {
      const t = await create(alice, { name: 'state-revoked' });
      expect((await runed.request('GET', '/v1/whoami', { token: t.secret })).status).toBe(200);
      const revoked = await runed.request('DELETE', `/v1/tokens/${t.token.id}`, { token: alice });
      expect(revoked.body).toMatchObject({ id: t.token.id, status: 'revoked', revokedAt: expect.any(String) });
      const res = await runed.request('GET', '/v1/whoami', { token: t.secret });
      expect([res.status, res.body]).toEqual([401, GENERIC]);
    });

    it('unknown id → 401 generic', async () => {
      // A well-formed token with a valid checksum whose id was never issued here.
      const res = await runed.request('GET', '/v1/whoami', { token: mintToken().bearer });
      expect([res.status, res.body]).toEqual([401, GENERIC]);
    });

    it('wrong secret with a valid checksum → 401 generic', async () => {
      const t = await create(alice, { name: 'state-wrong-secret' });
      const forged = forgeChecksum(`rune_${t.token.id}_${mintToken().secret}`);
      expect(parseToken(forged)).toMatchObject({ ok: true, id: t.token.id });
      const res = await runed.request('GET', '/v1/whoami', { token: forged });
      expect([res.status, res.body]).toEqual([401, GENERIC]);
    });

    it('bad checksum → 401 generic', async () => {
      const t = await create(alice, { name: 'state-bad-checksum' });
      const typo = t.secret.slice(0, -1) + (t.secret.endsWith('A') ? 'B' : 'A');
      const res = await runed.request('GET', '/v1/whoami', { token: typo });
      expect([res.status, res.body]).toEqual([401, GENERIC]);
    });

    it('no token, or not a bearer → 401 generic', async () => {
      expect((await runed.request('GET', '/v1/users')).body).toEqual(GENERIC);
      expect((await runed.request('GET', '/v1/users', { headers: { authorization: `Basic ${alice}` } })).body).toEqual(GENERIC);
    });
  });

  describe('ownership: owner vs admin vs another user', () => {
    let aliceToken: string;
    beforeAll(async () => {
      aliceToken = (await create(alice, { name: 'owned-by-alice', ttl: '720h' })).token.id;
    });

    it.each([
      ['GET', 'alice (owner)', 200],
      ['GET', 'root (admin)', 200],
      ['GET', 'bob (other)', 404],
      ['PATCH', 'bob (other)', 404],
      ['DELETE', 'bob (other)', 404],
      ['PATCH', 'root (admin)', 200],
    ] as const)('%s by %s → %i', async (method, who, status) => {
      const token = who.startsWith('alice') ? alice : who.startsWith('root') ? root : bob;
      const res = await runed.request(method, `/v1/tokens/${aliceToken}`, { token, ...(method === 'PATCH' ? { body: { description: `by ${who}` } } : {}) });
      expect(res.status).toBe(status);
      if (status === 404) expect(res.body.error.message).toBe(`token "${aliceToken}" not found`);
    });

    it('an unknown token id and another user\'s token answer the same 404', async () => {
      const other = await runed.request('GET', `/v1/tokens/${aliceToken}`, { token: bob });
      const unknown = await runed.request('GET', '/v1/tokens/tok_00000000000000000000', { token: bob });
      expect(other.status).toBe(unknown.status);
      expect(other.body.error.code).toBe(unknown.body.error.code);
    });

    it('a list shows a user only its own tokens, and an admin everyone\'s', async () => {
      const mine = await runed.request('GET', '/v1/tokens?limit=1000', { token: bob });
      expect(mine.body.items.length).toBeGreaterThan(0);
      expect(new Set(mine.body.items.map((t: { subjectName: string }) => t.subjectName))).toEqual(new Set(['bob']));
      expect((await runed.request('GET', '/v1/tokens?subject=alice', { token: bob })).body.items).toEqual([]);
      const all = await runed.request('GET', '/v1/tokens?limit=1000', { token: root });
      expect(new Set(all.body.items.map((t: { subjectName: string }) => t.subjectName))).toEqual(new Set(['root', 'alice', 'bob']));
      const onlyAlice = await runed.request('GET', '/v1/tokens?subject=alice&limit=1000', { token: root });
      expect(new Set(onlyAlice.body.items.map((t: { subjectName: string }) => t.subjectName))).toEqual(new Set(['alice']));
    });

    it('a user cannot create a token for another subject', async () => {
      const res = await runed.request('POST', '/v1/tokens', { token: alice, body: { name: 'x', subjectName: 'bob' } });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/missing permission "create" on "tokens"/);
    });
  });

  describe('TTL: owners reduce, admins extend', () => {
    it.each([
      ['owner reduces 720h → 24h', 'alice', '720h', '24h', 200],
      ['owner extends 24h → 48h', 'alice', '24h', '48h', 403],
      ['owner removes the expiry', 'alice', '24h', null, 403],
      ['admin extends 24h → 48h', 'root', '24h', '48h', 200],
      ['admin removes the expiry', 'root', '24h', null, 200],
      ['owner sets a ttl on a token without one', 'alice', undefined, '24h', 200],
    ] as const)('%s → %i', async (_name, who, from, to, status) => {
      const t = await create(alice, { name: 'ttl-case', ...(from ? { ttl: from } : {}) });
      const res = await runed.request('PATCH', `/v1/tokens/${t.token.id}`, { token: who === 'root' ? root : alice, body: { ttl: to } });
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      const after = (await runed.request('GET', `/v1/tokens/${t.token.id}`, { token: alice })).body;
      if (status === 200) {
        const expected = to === null ? undefined : new Date(Date.parse(t.token.createdAt) + (to === '24h' ? 24 : 48) * 3_600_000).toISOString();
        expect(after.expiresAt).toBe(expected);
      } else {
        expect(res.body.error.message).toMatch(/may only reduce its ttl/);
        expect(after.expiresAt).toBe(t.token.expiresAt);
      }
    });
  });

  describe('update refuses immutable and unknown fields', () => {
    it.each([
      [{ name: 'renamed' }, 'field "name" is immutable: only description, ttl, enabled can change'],
      [{ policies: ['admin'] }, 'field "policies" is immutable'],
      [{ subjectName: 'root' }, 'field "subjectName" is immutable'],
      [{ expiresAt: '2099-01-01T00:00:00Z' }, 'field "expiresAt" is immutable'],
      [{ enabeld: false }, 'unknown field "enabeld" (did you mean "enabled"?)'],
      [{ enabled: 'no' }, 'enabled must be true or false'],
      [{ ttl: 'forever' }, 'ttl "forever" is not a duration'],
      [{ ttl: '0s' }, 'ttl must be greater than zero'],
      [{}, 'nothing to change'],
    ])('%j → 400', async (body, message) => {
      const t = await create(alice, { name: 'immutable', description: 'before' });
      const res = await runed.request('PATCH', `/v1/tokens/${t.token.id}`, { token: alice, body });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(message);
      const after = (await runed.request('GET', `/v1/tokens/${t.token.id}`, { token: alice })).body;
      expect(after).toMatchObject({ name: 'immutable', description: 'before', enabled: true });
    });

    it('a revoked token cannot be changed', async () => {
      const t = await create(alice, { name: 'revoked-then-patched' });
      await runed.request('DELETE', `/v1/tokens/${t.token.id}`, { token: alice });
      const res = await runed.request('PATCH', `/v1/tokens/${t.token.id}`, { token: alice, body: { enabled: true } });
      expect(res.status).toBe(409);
    });
  });

  describe('create', () => {
    it('refuses bad input with a message naming the field', async () => {
      for (const [body, message] of [
        [{ ttl: '0h' }, 'ttl must be greater than zero'],
        [{ ttl: '-1h' }, 'is not a duration'],
        [{ policies: ['nope'] }, 'policy "nope" does not exist'],
        [{ kind: 'weird' }, 'kind must be one of session, derived'],
        [{ secret: 'mine' }, 'unknown field "secret"'],
        [{ subjectName: 'ghost' }, ''],
      ] as const) {
        const res = await runed.request('POST', '/v1/tokens', { token: root, body });
        expect(res.status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.body.error.message).toContain(message);
      }
    });

    it('--policies narrows the token: a root token narrowed to readonly cannot list users', async () => {
      const t = await create(root, { name: 'narrow', policies: ['readonly'] });
      const me = await runed.request('GET', '/v1/whoami', { token: t.secret });
      expect(me.body.token.policies).toEqual(['readonly']);
      const res = await runed.request('GET', '/v1/users', { token: t.secret });
      expect(res.status).toBe(403);
      expect((await runed.request('GET', '/v1/namespaces', { token: t.secret })).status).toBe(200);
    });

    it('policies named for another subject are attached if missing (seed behaviour)', async () => {
      await runed.request('POST', '/v1/users', { token: root, body: { name: 'carol' } });
      const res = await create(root, { name: 'carol-laptop', subjectName: 'carol', policies: ['readwrite'], ttl: '720h' });
      expect((res as unknown as { attached: string[] }).attached).toEqual(['readwrite']);
      expect((await runed.request('GET', '/v1/users/carol', { token: root })).body.policies).toEqual(['readwrite']);
      expect(Date.parse(res.token.expiresAt!) - Date.parse(res.token.createdAt)).toBe(720 * 3_600_000);
    });

    it('lastUsedAt is recorded when a token is used', async () => {
      const t = await create(alice, { name: 'last-used' });
      expect((await runed.request('GET', `/v1/tokens/${t.token.id}`, { token: alice })).body.lastUsedAt).toBeUndefined();
      await runed.request('GET', '/v1/whoami', { token: t.secret });
      // Written in a batch once a second.
      const after = await eventually('lastUsedAt to be written', async () => {
        const body = (await runed.request('GET', `/v1/tokens/${t.token.id}`, { token: alice })).body;
        return body.lastUsedAt ? body : undefined;
      });
      expect(Date.parse(after.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(after.createdAt));
    });
  });

  describe('list paging and filters', () => {
    it('pages with limit and cursor, in creation order, without gaps or repeats', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await create(bob, { name: `page-${i}` })).token.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await runed.request('GET', `/v1/tokens?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { token: bob });
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items.map((t: { id: string }) => t.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
      expect(new Set(seen).size).toBe(seen.length);
    });

    it('filters by status', async () => {
      const t = await create(bob, { name: 'to-revoke' });
      await runed.request('DELETE', `/v1/tokens/${t.token.id}`, { token: bob });
      const revoked = await runed.request('GET', '/v1/tokens?status=revoked', { token: bob });
      expect(revoked.body.items.map((x: { id: string }) => x.id)).toContain(t.token.id);
      expect(revoked.body.items.every((x: { status: string }) => x.status === 'revoked')).toBe(true);
      const active = await runed.request('GET', '/v1/tokens?status=active&limit=1000', { token: bob });
      expect(active.body.items.map((x: { id: string }) => x.id)).not.toContain(t.token.id);
    });

    it.each([
      ['limit=0', 'limit must be a whole number from 1 to 1000'],
      ['limit=5000', 'limit must be a whole number from 1 to 1000'],
      ['limit=abc', 'limit must be'],
      ['cursor=garbage', 'cursor is not valid'],
      ['status=sleeping', 'status must be one of active, expired, disabled, revoked'],
    ])('?%s → 400', async (query, message) => {
      const res = await runed.request('GET', `/v1/tokens?${query}`, { token: bob });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain(message);
    });
  });

  it('deleting a user revokes its tokens', async () => {
    const dave = await runed.userWithToken(root, 'dave', ['readonly']);
    expect((await runed.request('GET', '/v1/whoami', { token: dave })).status).toBe(200);
    const res = await runed.request('DELETE', '/v1/users/dave', { token: root });
    expect(res.body).toMatchObject({ user: { name: 'dave' }, revokedTokens: 1 });
    expect((await runed.request('GET', '/v1/whoami', { token: dave })).status).toBe(401);
    const listed = await runed.request('GET', '/v1/tokens?subject=dave', { token: root });
    expect(listed.body.items).toEqual([]);
  });
});

/** Gives `rune_<id>_<secret>` the checksum the format expects, to forge a well-formed token. */
function forgeChecksum(body: string): string {
  const table = new Uint32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (let i = 0; i < body.length; i++) crc = table[(crc ^ body.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  let n = (crc ^ 0xffffffff) >>> 0;
  const A = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let i = 0; i < 6; i++) {
    out = A[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return body + out;
}

describe('token limits and sweeps (own daemons)', () => {
  it('with auth.tokenMaxTtl: omitted TTL gets the max, above the max is refused naming it', async () => {
    const runed = await Runed.start(['--token-max-ttl', '90d']);
    try {
      const root = await runed.bootstrap();
      const dflt = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'd' } });
      expect(Date.parse(dflt.body.token.expiresAt) - Date.parse(dflt.body.token.createdAt)).toBe(90 * 86_400_000);
      const over = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'o', ttl: '91d' } });
      expect(over.status).toBe(400);
      expect(over.body.error.message).toBe('ttl 91d is longer than the maximum of 90d (auth.tokenMaxTtl)');
      const extend = await runed.request('PATCH', `/v1/tokens/${dflt.body.token.id}`, { token: root, body: { ttl: null } });
      expect(extend.status).toBe(400);
    } finally {
      await runed.cleanup();
    }
  });

  it('with auth.tokenDefaultTtl: omitted TTL gets the default', async () => {
    const runed = await Runed.start([], { env: { RUNE_AUTH_TOKEN_DEFAULT_TTL: '24h' } });
    try {
      const root = await runed.bootstrap();
      const t = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'd' } });
      expect(Date.parse(t.body.token.expiresAt) - Date.parse(t.body.token.createdAt)).toBe(24 * 3_600_000);
    } finally {
      await runed.cleanup();
    }
  });

  it('repeated failures from one address get 429 with Retry-After; a valid token from there still works', async () => {
    const runed = await Runed.start(['--set', 'auth.failedAuthLimit=3', '--set', 'auth.failedAuthWindow=1h']);
    try {
      const root = await runed.bootstrap();
      for (let i = 0; i < 3; i++) expect((await runed.request('GET', '/v1/whoami', { token: 'rune_nope' })).status).toBe(401);
      const limited = await runed.request('GET', '/v1/whoami', { token: 'rune_nope' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(3500);
      expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
      expect((await runed.request('GET', '/healthz')).status).toBe(200);
    } finally {
      await runed.cleanup();
    }
  });

  it('the periodic sweep purges expired and revoked tokens after the retention', async () => {
    const runed = await Runed.start(['--set', 'auth.tokenRetention=1ms', '--set', 'auth.sweepInterval=50ms']);
    try {
      const root = await runed.bootstrap();
      const t = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'short' } });
      const kept = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'kept' } });
      await runed.request('DELETE', `/v1/tokens/${t.body.token.id}`, { token: root });
      await runed.waitForLog(/"purged":1/);
      expect((await runed.request('GET', `/v1/tokens/${t.body.token.id}`, { token: root })).status).toBe(404);
      expect((await runed.request('GET', `/v1/tokens/${kept.body.token.id}`, { token: root })).status).toBe(200);
    } finally {
      await runed.cleanup();
    }
  });
});
