import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

/**
 * Bulk revoke and disable by selector (POST /v1/tokens/revoke, /disable; GET /v1/tokens?selector=)
 * against one real runed: the selector as a decision table, then dry runs, --expect, the caller's
 * own token, hostile callers and the one audit event.
 */

const DAY = 86_400_000;
type TokenBody = { id: string; name: string; status: string; enabled: boolean; subjectName: string };
type Bulk = { action: string; selector: string; dryRun: boolean; count: number; tokens: TokenBody[]; skipped: { token: TokenBody; reason: string }[] };

describe('token selectors against one daemon', () => {
  let runed: Runed;
  let root: string;
  let rootId: string;
  const secrets: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const post = (token: string, path: string, body: unknown) => runed.request<Bulk>('POST', path, { token, body });
  const create = async (token: string, body: Record<string, unknown>) => {
    const res = await runed.request('POST', '/v1/tokens', { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    secrets[body.name as string] = res.body.secret;
    ids[body.name as string] = res.body.token.id;
    return res.body.token.id as string;
  };
  const names = (b: Bulk) => [...b.tokens, ...b.skipped.map((s) => s.token)].map((t) => t.name).sort();
  const statusOf = async (id: string) => (await runed.request('GET', `/v1/tokens/${id}`, { token: root })).body.status as string;
  /** A token made `days` old (and last used `usedDaysAgo` ago): no API can backdate a token. */
  const age = async (id: string, days: number, usedDaysAgo?: number) => {
    const now = Date.now();
    const aged = await withTestDb(runed, (db) =>
      db.run('UPDATE tokens SET created_at = ?, last_used_at = ? WHERE id = ?', [now - days * DAY, usedDaysAgo === undefined ? null : now - usedDaysAgo * DAY, id]),
    );
    expect(aged.changes).toBe(1);
  };

  beforeAll(async () => {
    runed = await Runed.start(['--set', 'auth.failedAuthLimit=1000']);
    root = await runed.bootstrap();
    rootId = (await runed.request('GET', '/v1/whoami', { token: root })).body.token.id;
    secrets.alice = await runed.userWithToken(root, 'alice', ['readwrite', 'readonly']);
    secrets.bob = await runed.userWithToken(root, 'bob', ['readonly']);
    const sa = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'ci', permissions: ['cast'], tokenName: 'ci-s1' } });
    expect(sa.status, JSON.stringify(sa.body)).toBe(201);
    secrets['ci-s1'] = sa.body.secret;
    ids['ci-s1'] = sa.body.token.id;
    await create(root, { name: 'ci-a1', subjectName: 'alice' });
    await create(root, { name: 'laptop-a2', subjectName: 'alice', policies: ['readwrite'] });
    await create(root, { name: 'exp-a3', subjectName: 'alice', ttl: '2d' });
    await create(root, { name: 'ro-a5', subjectName: 'alice', policies: ['readonly'] });
    await create(secrets.alice!, { name: 'self-a4' });
    await create(root, { name: 'ci-b1', subjectName: 'bob' });
    await age(await create(root, { name: 'old-b2', subjectName: 'bob' }), 40);
    await age(await create(root, { name: 'used-b3', subjectName: 'bob' }), 60, 45);
    await create(root, { name: 'ci-r1', subjectName: 'bob' });
    expect((await runed.request('DELETE', `/v1/tokens/${ids['ci-r1']}`, { token: root })).status).toBe(200);
  });
  afterAll(async () => runed.cleanup());

  describe('decision table: what each selector matches (root, dry run)', () => {
    const aliceAll = ['alice-token', 'ci-a1', 'exp-a3', 'laptop-a2', 'ro-a5', 'self-a4'];
    const bobLive = ['bob-token', 'ci-b1', 'old-b2', 'used-b3'];
    const table: [string, () => string[]][] = [
      ['subject=alice', () => aliceAll],
      ['subject=bob', () => bobLive],
      ['subject=nobody', () => []],
      ['kind=service', () => ['ci-s1']],
      ['kind=user,subject=bob', () => bobLive],
      ['kind=service,subject=bob', () => []],
      ['name-prefix=ci-', () => ['ci-a1', 'ci-b1', 'ci-s1']],
      ['name-prefix=CI-', () => []],
      ['name-prefix="ci-",kind=user', () => ['ci-a1', 'ci-b1']],
      // Narrowed tokens carry what their list names; unnarrowed ones what their subject holds.
      ['policy=readwrite', () => ['alice-token', 'ci-a1', 'exp-a3', 'laptop-a2', 'self-a4']],
      ['policy=readonly', () => ['alice-token', 'ci-a1', 'exp-a3', 'ro-a5', 'self-a4', ...bobLive]],
      ['policy=cast', () => ['ci-s1']],
      ['created-by=ALICE', () => ['self-a4']],
      ['created-by=ROOT', () => ['alice-token', 'bob-token', 'ci-a1', 'ci-b1', 'ci-s1', 'exp-a3', 'laptop-a2', 'old-b2', 'ro-a5', 'used-b3']],
      ['unused-for=30d', () => ['old-b2', 'used-b3']],
      ['unused-for=42d', () => ['used-b3']],
      ['unused-for=30d,name-prefix=old-', () => ['old-b2']],
      ['expires-within=3d', () => ['exp-a3']],
      ['expires-within=1d', () => []],
      ['search=LAPTOP', () => ['laptop-a2']],
      ['search=bob,name-prefix=ci-', () => ['ci-b1']],
    ];
    const resolve = (selector: string) => selector.replace('ALICE', ids['alice-token'] ?? '').replace('ROOT', rootId);

    const snapshot = async () =>
      (await runed.request('GET', '/v1/tokens?limit=1000', { token: root })).body.items.map((t: TokenBody & { revokedAt?: string; expiresAt?: string }) => [t.id, t.status, t.enabled, t.revokedAt, t.expiresAt]);
    let before: unknown[];
    beforeAll(async () => {
      ids['alice-token'] = (await runed.request('GET', '/v1/whoami', { token: secrets.alice })).body.token.id;
      before = await snapshot();
    });

    it.each(table)('%s', async (selector, expected) => {
      const res = await post(root, '/v1/tokens/revoke', { selector: resolve(selector), dryRun: true });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.dryRun).toBe(true);
      expect(names(res.body)).toEqual([...expected()].sort());
      expect(res.body.count).toBe(res.body.tokens.length);
      // The list filter is the same engine.
      const listed = await runed.request('GET', `/v1/tokens?selector=${encodeURIComponent(resolve(selector))}&limit=1000`, { token: root });
      expect(listed.body.items.map((t: TokenBody) => t.name).sort()).toEqual([...expected()].sort());
    });

    it('dry runs changed nothing: every token as before, and no revoke in the audit trail', async () => {
      expect(await snapshot()).toEqual(before);
      const listed = await runed.request('GET', '/v1/tokens?status=revoked', { token: root });
      expect(listed.body.items.map((t: TokenBody) => t.name)).toEqual(['ci-r1']);
      const revokes = await runed.request('GET', '/v1/audit?action=revoke&outcome=success', { token: root });
      expect(revokes.body.items.map((e: { ref: string }) => e.ref)).toEqual([ids['ci-r1']]);
    });
  });

  describe('bad selectors: 400 naming the term', () => {
    it.each([
      ['subjekt=alice', 'subjekt=alice', 'did you mean "subject"'],
      ['subject=', 'subject=', 'empty value'],
      ['unused-for=soon', 'unused-for=soon', 'not a duration'],
      ['unused-for=0d', 'unused-for=0d', 'longer than zero'],
      ['kind=robot', 'kind=robot', 'user or service'],
      ['created-by=alice', 'created-by=alice', 'not a token id'],
      ['subject=Alice', 'subject=Alice', 'invalid name'],
      ['subject=alice,subject=bob', 'subject=bob', 'repeats'],
      ['name-prefix="open', 'name-prefix="open', 'not closed'],
      ['subject', 'subject', 'no value'],
    ])('%s', async (selector, term, why) => {
      const res = await post(root, '/v1/tokens/revoke', { selector });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_argument', details: { field: 'selector', term } } });
      expect((res.body as unknown as { error: { message: string } }).error.message).toContain(why);
    });

    it.each(['', '   ', ',', 'subject=alice,', 'subject=alice,,kind=user'])('"%s" is refused, never read as "everything"', async (selector) => {
      const res = await post(root, '/v1/tokens/revoke', { selector });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: { code: 'invalid_argument', details: { field: 'selector' } } });
    });

    it('a bad ?selector= on the list is a 400 too; a missing selector field is a 400 naming it', async () => {
      const listed = await runed.request('GET', '/v1/tokens?selector=kind%3Drobot', { token: root });
      expect(listed.status).toBe(400);
      const missing = await runed.request('POST', '/v1/tokens/revoke', { token: root, body: { dryRun: true } });
      expect(missing.status).toBe(400);
      expect(JSON.stringify(missing.body)).toContain('selector');
      expect(await statusOf(ids['ci-a1']!)).toBe('active');
    });
  });

  describe('changes', () => {
    it('--expect that does not match revokes nothing (409), one that matches revokes them all', async () => {
      for (const n of [1, 2, 3]) await create(root, { name: `mm-${n}`, subjectName: 'bob' });
      const wrong = await post(root, '/v1/tokens/revoke', { selector: 'name-prefix=mm-', expect: 2 });
      expect(wrong.status).toBe(409);
      expect(wrong.body).toMatchObject({ error: { code: 'failed_precondition', details: { expected: 2, matched: 3 } } });
      for (const n of [1, 2, 3]) expect(await statusOf(ids[`mm-${n}`]!)).toBe('active');
      const right = await post(root, '/v1/tokens/revoke', { selector: 'name-prefix=mm-', expect: 3 });
      expect(right.status).toBe(200);
      expect(right.body).toMatchObject({ count: 3, dryRun: false });
      expect(right.body.tokens.every((t) => t.status === 'revoked')).toBe(true);
      for (const n of [1, 2, 3]) expect(await statusOf(ids[`mm-${n}`]!)).toBe('revoked');
      expect((await runed.request('GET', '/v1/whoami', { token: secrets['mm-1'] })).status).toBe(401);
    });

    it('the caller\'s own token is never revoked by a selector: it is listed as skipped', async () => {
      await create(secrets.alice!, { name: 'own-1' });
      await create(secrets.alice!, { name: 'own-2' });
      const res = await post(secrets['own-1']!, '/v1/tokens/revoke', { selector: 'subject=alice,name-prefix=own-' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.tokens.map((t) => t.name)).toEqual(['own-2']);
      expect(res.body.skipped).toEqual([{ token: expect.objectContaining({ name: 'own-1', status: 'active' }), reason: expect.stringContaining('the token making this call') }]);
      expect((await runed.request('GET', '/v1/whoami', { token: secrets['own-1'] })).status).toBe(200);
      expect(await statusOf(ids['own-2']!)).toBe('revoked');
    });

    it('one audit event lists every id, even past one batch (510 tokens)', async () => {
      await runed.request('POST', '/v1/users', { token: root, body: { name: 'many', policies: [] } });
      const made: string[] = [];
      for (let i = 0; i < 510; i += 30) {
        const chunk = await Promise.all(
          Array.from({ length: Math.min(30, 510 - i) }, (_, j) => runed.request('POST', '/v1/tokens', { token: root, body: { name: `many-${i + j}`, subjectName: 'many' } })),
        );
        made.push(...chunk.map((r) => r.body.token.id as string));
      }
      const before = (await runed.request('GET', '/v1/audit?action=revoke&outcome=success&limit=1000', { token: root })).body.items.length;
      const res = await post(root, '/v1/tokens/revoke', { selector: 'subject=many', expect: 510 });
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(200);
      expect(res.body.count).toBe(510);
      const events = (await runed.request('GET', '/v1/audit?action=revoke&outcome=success&limit=1000', { token: root })).body.items;
      expect(events.length).toBe(before + 1);
      expect(events[0]).toMatchObject({ ref: 'subject=many', actor: { name: 'root', tokenId: rootId } });
      const listed = events[0].message.split(': ').at(-1).split(', ');
      expect(new Set(listed)).toEqual(new Set(made));
      const live = await runed.request('GET', '/v1/tokens?subject=many&status=active', { token: root });
      expect(live.body.items).toEqual([]);
    }, 120_000);

    it('disable by selector: stale tokens are disabled (by an admin: their owner cannot re-enable them), then skipped', async () => {
      const preview = await post(root, '/v1/tokens/disable', { selector: 'unused-for=30d', dryRun: true });
      expect(names(preview.body)).toEqual(['old-b2', 'used-b3']);
      expect(await statusOf(ids['old-b2']!)).toBe('active');
      const res = await post(root, '/v1/tokens/disable', { selector: 'unused-for=30d', expect: 2 });
      expect(res.status).toBe(200);
      expect(res.body.tokens.map((t) => [t.name, t.status])).toEqual([['used-b3', 'disabled'], ['old-b2', 'disabled']]);
      const reenable = await runed.request('PATCH', `/v1/tokens/${ids['old-b2']}`, { token: secrets.bob, body: { enabled: true } });
      expect(reenable.status).toBe(403);
      const again = await post(root, '/v1/tokens/disable', { selector: 'unused-for=30d' });
      expect(again.body.count).toBe(0);
      expect(again.body.skipped.map((s) => [s.token.name, s.reason])).toEqual([['used-b3', 'already disabled'], ['old-b2', 'already disabled']]);
    });
  });

  describe('hostile callers', () => {
    it('a user without rights on tokens reaches only its own: another subject\'s tokens are invisible, not revoked', async () => {
      const res = await post(secrets.bob!, '/v1/tokens/revoke', { selector: 'subject=alice' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ count: 0, tokens: [], skipped: [] });
      const all = await post(secrets.bob!, '/v1/tokens/revoke', { selector: 'kind=user', dryRun: true });
      expect(new Set(all.body.tokens.map((t) => t.subjectName))).toEqual(new Set(['bob']));
      expect(await statusOf(ids['ci-a1']!)).toBe('active');
    });

    it('a caller that may list everyone\'s tokens but not revoke them is refused whole (403 naming how many), nothing revoked', async () => {
      const reader = await runed.request('POST', '/v1/policies', { token: root, body: { name: 'token-reader', rules: [{ resource: 'tokens', verbs: ['get', 'list'] }] } });
      expect(reader.status, JSON.stringify(reader.body)).toBe(201);
      const carol = await runed.userWithToken(root, 'carol', ['token-reader']);
      await create(carol, { name: 'carol-2' });
      for (const dryRun of [true, false]) {
        const res = await post(carol, '/v1/tokens/revoke', { selector: 'name-prefix=c', dryRun });
        expect(res.status).toBe(403);
        // ci-a1, ci-b1, ci-s1 are others'; carol-2 is hers (carol-token is the caller, skipped).
        expect(res.body).toMatchObject({ error: { code: 'permission_denied', details: { refused: 3, matched: 4, missing: { verb: 'delete', resource: 'tokens' } } } });
        expect((res.body as unknown as { error: { message: string } }).error.message).toContain('may not revoke 3 of the 4');
      }
      expect(await statusOf(ids['carol-2']!)).toBe('active');
      expect(await statusOf(ids['ci-a1']!)).toBe('active');
      const denied = await runed.request('GET', '/v1/audit?action=revoke&outcome=denied', { token: root });
      expect(denied.body.items[0]).toMatchObject({ actor: { name: 'carol' }, ref: 'name-prefix=c' });
    });

    it('a narrowed token cannot escape its narrowing: it reaches itself only, and skips itself', async () => {
      const res = await post(secrets['laptop-a2']!, '/v1/tokens/revoke', { selector: 'subject=alice' });
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(0);
      expect(res.body.skipped.map((s) => s.token.name)).toEqual(['laptop-a2']);
      // Root narrowed to readonly has no right on tokens left: nobody else's, not even root's other tokens.
      await create(root, { name: 'root-ro', policies: ['readonly'] });
      const narrowedRoot = await post(secrets['root-ro']!, '/v1/tokens/revoke', { selector: 'kind=user' });
      expect(narrowedRoot.body.count).toBe(0);
      expect(await statusOf(ids['ci-a1']!)).toBe('active');
      expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
    });

    it('a service account reaches only its own tokens', async () => {
      await create(root, { name: 'ci-s2', subjectName: 'ci' });
      const others = await post(secrets['ci-s1']!, '/v1/tokens/revoke', { selector: 'kind=user' });
      expect(others.body.count).toBe(0);
      const own = await post(secrets['ci-s1']!, '/v1/tokens/revoke', { selector: 'kind=service' });
      expect(own.body.tokens.map((t) => t.name)).toEqual(['ci-s2']);
      expect(own.body.skipped.map((s) => s.token.name)).toEqual(['ci-s1']);
      expect(await statusOf(ids['ci-a1']!)).toBe('active');
    });
  });
});
