import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';

describe('service accounts', () => {
  let runed: Runed;
  let root: string;

  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
  });
  afterAll(async () => runed.cleanup());

  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (const path of ['/v1/users', '/v1/serviceaccounts', '/v1/policies', '/v1/tokens']) {
      out[path] = (await runed.request('GET', `${path}?limit=1000`, { token: root })).body.items.map((x: { name: string; id?: string }) => x.id ?? x.name);
    }
    return out;
  };

  it('ci-stg --namespace stg --permissions cast --ttl 90d: account, pinned policy and token in one step', async () => {
    const res = await runed.request('POST', '/v1/serviceaccounts', {
      token: root,
      body: { name: 'ci-stg', namespace: 'stg', permissions: ['cast'], ttl: '90d', description: 'GitHub Actions deploys to stg' },
    });
    expect(res.status).toBe(201);
    expect(res.body.serviceAccount).toMatchObject({ name: 'ci-stg', namespace: 'stg', permissions: ['cast'], policies: ['ci-stg-cast'], description: 'GitHub Actions deploys to stg' });
    expect(res.body.policy.name).toBe('ci-stg-cast');
    for (const rule of res.body.policy.rules) expect(rule.namespace).toBe(rule.resource === 'namespaces' ? '*' : 'stg');
    expect(res.body.token).toMatchObject({ subjectName: 'ci-stg', subjectType: 'service', kind: 'derived', status: 'active' });
    expect(Date.parse(res.body.token.expiresAt) - Date.parse(res.body.token.createdAt)).toBe(90 * 86_400_000);
    expect(res.body.warnings).toEqual(['namespace "stg" does not exist yet: the account\'s rights apply once it is created']);

    const secret = res.body.secret as string;
    const check = async (verb: string, resource: string, namespace?: string) =>
      (await runed.request('POST', '/v1/authz/check', { token: secret, body: { verb, resource, ...(namespace ? { namespace } : {}) } })).body.allowed;
    expect(await check('create', 'services', 'stg')).toBe(true);
    expect(await check('create', 'services', 'prod')).toBe(false);
    expect(await check('create', 'namespaces')).toBe(true);
    expect(await check('list', 'users')).toBe(false);
    expect((await runed.request('GET', '/v1/whoami', { token: secret })).body.subject).toMatchObject({ name: 'ci-stg', type: 'service' });
  });

  it('without a namespace the built-ins are attached as they are', async () => {
    const res = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'dashboard', permissions: ['read'], ttl: '720h' } });
    expect(res.status).toBe(201);
    expect(res.body.serviceAccount.policies).toEqual(['readonly']);
    expect(res.body.policy).toBeUndefined();
    expect(res.body.warnings).toBeUndefined();
  });

  it.each([
    ['an unknown permission', { name: 'x1', permissions: ['deploy'] }, 400, 'unknown permission "deploy": use one or more of cast, read, admin'],
    ['no permissions', { name: 'x2', permissions: [] }, 400, 'permissions must name one or more'],
    ['a bad TTL', { name: 'x3', ttl: '90 days' }, 400, 'ttl "90 days" is not a duration'],
    ['a name taken by a service account', { name: 'ci-stg' }, 409, 'taken by a service account'],
    ['a name taken by a user', { name: 'root' }, 409, 'taken by a user'],
    ['a bad namespace', { name: 'x4', namespace: 'Stg' }, 400, 'namespace "Stg" is invalid'],
    ['an unknown field', { name: 'x5', perms: ['cast'] }, 400, 'unknown field "perms"'],
    // Both derived names are too long: the answer names the longer one, so the hint is enough at once.
    ['a name too long for its derived policies', { name: `x${'a'.repeat(58)}`, namespace: 'stg', permissions: ['cast', 'admin'] }, 400, `its policy would be named "x${'a'.repeat(58)}-admin", longer than 63 characters: use a name of at most 57 characters`],
  ])('%s → %i, nothing half-created', async (_name, body, status, message) => {
    const before = await snapshot();
    const res = await runed.request('POST', '/v1/serviceaccounts', { token: root, body });
    expect(res.status).toBe(status);
    expect(res.body.error.message).toContain(message);
    expect(await snapshot()).toEqual(before);
  });

  it('a derived policy name that already exists refuses the whole creation', async () => {
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'clash-cast', rules: [] } });
    const before = await snapshot();
    const res = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'clash', namespace: 'dev', permissions: ['cast'] } });
    expect(res.status).toBe(409);
    expect(await snapshot()).toEqual(before);
  });

  it('more tokens can be minted for it, and ?subject= lists them apart', async () => {
    const t = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'ci-stg-2', subjectName: 'ci-stg', ttl: '24h' } });
    expect(t.status).toBe(201);
    expect(t.body.token.subjectType).toBe('service');
    const list = await runed.request('GET', '/v1/tokens?subject=ci-stg', { token: root });
    expect(list.body.items.map((x: { name: string }) => x.name).sort()).toEqual(['ci-stg', 'ci-stg-2']);
    const got = await runed.request('GET', '/v1/serviceaccounts/ci-stg', { token: root });
    expect(got.body.tokens).toHaveLength(2);
  });

  it('the escalation guard applies: a caller cannot create an account with more than it holds', async () => {
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'sa-maker', rules: [{ resource: 'serviceaccounts', verbs: ['create'], namespace: '*' }] } });
    const maker = await runed.userWithToken(root, 'maker', ['sa-maker', 'readwrite']);
    const tooMuch = await runed.request('POST', '/v1/serviceaccounts', { token: maker, body: { name: 'powerful', permissions: ['admin'] } });
    expect(tooMuch.status).toBe(403);
    expect(tooMuch.body.error.details.missingRules).toEqual([{ resource: '*', verbs: ['*'], namespace: '*' }]);
    const fine = await runed.request('POST', '/v1/serviceaccounts', { token: maker, body: { name: 'modest', namespace: 'dev', permissions: ['cast', 'read'] } });
    expect(fine.status).toBe(201);
    expect(fine.body.serviceAccount.policies).toEqual(['modest-cast', 'modest-read']);
  });

  it('attach and detach work on service accounts, and users routes do not see them', async () => {
    expect((await runed.request('PUT', '/v1/serviceaccounts/dashboard/policies/cast', { token: root })).body.policies).toEqual(['cast', 'readonly']);
    expect((await runed.request('DELETE', '/v1/serviceaccounts/dashboard/policies/cast', { token: root })).body.policies).toEqual(['readonly']);
    expect((await runed.request('GET', '/v1/users/dashboard', { token: root })).status).toBe(404);
    const list = await runed.request('GET', '/v1/serviceaccounts', { token: root });
    expect(list.body.items.map((s: { name: string }) => s.name)).toEqual(['ci-stg', 'dashboard', 'modest']);
  });

  it('delete revokes its tokens and removes its derived policies', async () => {
    const created = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'gone', namespace: 'dev', permissions: ['cast'] } });
    const res = await runed.request('DELETE', '/v1/serviceaccounts/gone', { token: root });
    expect(res.body).toMatchObject({ revokedTokens: 1, removedPolicies: ['gone-cast'] });
    expect((await runed.request('GET', '/v1/whoami', { token: created.body.secret })).status).toBe(401);
    expect((await runed.request('GET', '/v1/policies/gone-cast', { token: root })).status).toBe(404);
    expect((await runed.request('GET', '/v1/serviceaccounts/gone', { token: root })).status).toBe(404);
  });
});
