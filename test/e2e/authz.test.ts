import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessDaemon } from '../helpers/inProcess.js';
import { Runed } from '../helpers/runed.js';

describe('users, policies and authorization', () => {
  let runed: Runed;
  let root: string;
  let dev: string; // readwrite
  let viewer: string; // readonly
  let delegate: string; // may manage users and bind nothing

  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
    dev = await runed.userWithToken(root, 'dev', ['readwrite']);
    viewer = await runed.userWithToken(root, 'viewer', ['readonly']);
    const p = await runed.request('POST', '/v1/policies', {
      token: root,
      body: { name: 'user-manager', description: 'manage users', rules: [{ resource: 'users', verbs: ['get', 'list', 'create', 'update'], namespace: '*' }, { resource: 'policies', verbs: ['get', 'list'], namespace: '*' }] },
    });
    expect(p.status).toBe(201);
    delegate = await runed.userWithToken(root, 'delegate', ['user-manager', 'readwrite']);
  });
  afterAll(async () => runed.cleanup());

  describe('who may do what (decision table over HTTP)', () => {
    it.each([
      ['root', 'GET', '/v1/users', 200],
      ['dev', 'GET', '/v1/users', 403],
      ['viewer', 'GET', '/v1/users', 403],
      ['delegate', 'GET', '/v1/users', 200],
      ['dev', 'GET', '/v1/policies', 403],
      ['delegate', 'GET', '/v1/policies', 200],
      ['dev', 'GET', '/v1/namespaces', 200],
      ['viewer', 'GET', '/v1/namespaces', 200],
      ['viewer', 'POST', '/v1/namespaces', 403],
      ['dev', 'DELETE', '/v1/policies/user-manager', 403],
      ['dev', 'GET', '/v1/whoami', 200],
    ] as const)('%s %s %s → %i', async (who, method, path, status) => {
      const token = { root, dev, viewer, delegate }[who];
      const body = method === 'POST' ? { name: 'made-by-test' } : undefined;
      const res = await runed.request(method, path, { token, ...(body ? { body } : {}) });
      expect(res.status).toBe(status);
    });

    it('readwrite cannot list users, and the 403 names the missing permission', async () => {
      const res = await runed.request('GET', '/v1/users', { token: dev });
      expect(res.body.error).toEqual({
        code: 'permission_denied',
        message: 'user dev may not list users: missing permission "list" on "users"',
        details: { missing: { verb: 'list', resource: 'users' } },
      });
    });
  });

  it('a policy change applies to the very next request of an existing token', async () => {
    const t = await runed.userWithToken(root, 'flipper', ['readonly']);
    expect((await runed.request('GET', '/v1/namespaces', { token: t })).status).toBe(200);
    await runed.request('DELETE', '/v1/users/flipper/policies/readonly', { token: root });
    expect((await runed.request('GET', '/v1/namespaces', { token: t })).status).toBe(403);
    await runed.request('PUT', '/v1/users/flipper/policies/readonly', { token: root });
    expect((await runed.request('GET', '/v1/namespaces', { token: t })).status).toBe(200);
  });

  describe('built-in policies are seeded and immutable', () => {
    it('all five are listed as built in', async () => {
      const res = await runed.request('GET', '/v1/policies', { token: root });
      const builtins = res.body.items.filter((p: { builtin: boolean }) => p.builtin).map((p: { name: string }) => p.name);
      expect(builtins.sort()).toEqual(['admin', 'cast', 'readonly', 'readwrite', 'root']);
    });

    it.each(['root', 'admin', 'readwrite', 'readonly', 'cast'])('%s: PUT and DELETE answer 409 and change nothing', async (name) => {
      const before = (await runed.request('GET', `/v1/policies/${name}`, { token: root })).body;
      const put = await runed.request('PUT', `/v1/policies/${name}`, { token: root, body: { name, rules: [] } });
      expect(put.status).toBe(409);
      expect(put.body.error.message).toContain('is built in and cannot be modified');
      const del = await runed.request('DELETE', `/v1/policies/${name}`, { token: root });
      expect(del.status).toBe(409);
      expect((await runed.request('GET', `/v1/policies/${name}`, { token: root })).body).toEqual(before);
    });

    it('creating a policy with a built-in name answers 409', async () => {
      const res = await runed.request('POST', '/v1/policies', { token: root, body: { name: 'root', rules: [] } });
      expect(res.status).toBe(409);
    });
  });

  describe('escalation guard', () => {
    it('a user manager cannot attach admin to anyone: the refusal lists the missing rules', async () => {
      await runed.request('POST', '/v1/users', { token: delegate, body: { name: 'eve' } });
      const res = await runed.request('PUT', '/v1/users/eve/policies/admin', { token: delegate });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('it grants rules the caller does not hold: [*] on * in *');
      expect(res.body.error.details.missingRules).toEqual([{ resource: '*', verbs: ['*'], namespace: '*' }]);
      expect((await runed.request('GET', '/v1/users/eve', { token: root })).body.policies).toEqual([]);
    });

    it('a user manager cannot create a user holding admin either', async () => {
      const res = await runed.request('POST', '/v1/users', { token: delegate, body: { name: 'mallory', policies: ['admin'] } });
      expect(res.status).toBe(403);
      expect((await runed.request('GET', '/v1/users/mallory', { token: root })).status).toBe(404);
    });

    it('a user manager can attach what it holds itself (readwrite)', async () => {
      const res = await runed.request('PUT', '/v1/users/eve/policies/readwrite', { token: delegate });
      expect(res.status).toBe(200);
      expect(res.body.policies).toEqual(['readwrite']);
    });

    it('holding bind on policies allows attaching what one does not hold', async () => {
      await runed.request('POST', '/v1/policies', {
        token: root,
        body: { name: 'binder', rules: [{ resource: 'users', verbs: ['get', 'update'], namespace: '*' }, { resource: 'policies', verbs: ['bind'], namespace: '*' }] },
      });
      const binder = await runed.userWithToken(root, 'binder-user', ['binder']);
      const res = await runed.request('PUT', '/v1/users/eve/policies/admin', { token: binder });
      expect(res.status).toBe(200);
      await runed.request('DELETE', '/v1/users/eve/policies/admin', { token: root });
    });

    it('writing a policy with rules one does not hold needs escalate', async () => {
      await runed.request('POST', '/v1/policies', {
        token: root,
        body: { name: 'policy-writer', rules: [{ resource: 'policies', verbs: ['create', 'update', 'get'], namespace: '*' }] },
      });
      const writer = await runed.userWithToken(root, 'writer', ['policy-writer', 'readonly']);
      const grab = await runed.request('POST', '/v1/policies', { token: writer, body: { name: 'grab', rules: [{ resource: 'users', verbs: ['delete'], namespace: '*' }] } });
      expect(grab.status).toBe(403);
      expect(grab.body.error.details.missingRules).toEqual([{ resource: 'users', verbs: ['delete'], namespace: '*' }]);
      const fine = await runed.request('POST', '/v1/policies', { token: writer, body: { name: 'fine', rules: [{ resource: 'services', verbs: ['get'], namespace: 'dev' }] } });
      expect(fine.status).toBe(201);
      const widen = await runed.request('PUT', '/v1/policies/fine', { token: writer, body: { name: 'fine', rules: [{ resource: 'services', verbs: ['delete'], namespace: 'dev' }] } });
      expect(widen.status).toBe(403);
      expect((await runed.request('GET', '/v1/policies/fine', { token: root })).body.rules).toEqual([{ resource: 'services', verbs: ['get'], namespace: 'dev' }]);
    });
  });

  describe('users and policies CRUD', () => {
    it('create is 201, update is 200, and the email changes', async () => {
      const a = await runed.request('POST', '/v1/users', { token: root, body: { name: 'frank', email: 'f@example.com' } });
      expect(a.status).toBe(201);
      const b = await runed.request('POST', '/v1/users', { token: root, body: { name: 'frank', email: 'frank@example.com' } });
      expect(b.status).toBe(200);
      expect(b.body).toMatchObject({ name: 'frank', email: 'frank@example.com', id: a.body.id });
    });

    it('attach, detach, and detach again is 404', async () => {
      expect((await runed.request('PUT', '/v1/users/frank/policies/readonly', { token: root })).body.policies).toEqual(['readonly']);
      expect((await runed.request('DELETE', '/v1/users/frank/policies/readonly', { token: root })).body.policies).toEqual([]);
      expect((await runed.request('DELETE', '/v1/users/frank/policies/readonly', { token: root })).status).toBe(404);
      expect((await runed.request('PUT', '/v1/users/frank/policies/nope', { token: root })).status).toBe(404);
      expect((await runed.request('PUT', '/v1/users/nobody/policies/readonly', { token: root })).status).toBe(404);
    });

    it('a policy sent as YAML is stored, listed, and deleting it detaches it from its holders', async () => {
      const yaml = 'name: alice-dev\ndescription: Read/write only in dev\nrules:\n  - resource: "*"\n    verbs: [get, list, watch, create, update, delete, scale, exec]\n    namespace: dev\n';
      const created = await runed.request('POST', '/v1/policies', { token: root, raw: { contentType: 'application/yaml', data: yaml } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'alice-dev', builtin: false, rules: [{ resource: '*', namespace: 'dev' }] });
      await runed.request('PUT', '/v1/users/frank/policies/alice-dev', { token: root });
      const got = await runed.request('GET', '/v1/policies/alice-dev', { token: root });
      expect(got.body.attachedTo).toEqual([{ name: 'frank', type: 'user' }]);
      const del = await runed.request('DELETE', '/v1/policies/alice-dev', { token: root });
      expect(del.body.detachedFrom).toEqual([{ name: 'frank', type: 'user' }]);
      expect((await runed.request('GET', '/v1/users/frank', { token: root })).body.policies).toEqual([]);
    });

    it('lint answers valid, errors with line:column and warnings', async () => {
      const res = await runed.request('POST', '/v1/policies/lint', {
        token: viewer,
        raw: { contentType: 'application/yaml', data: 'name: x\nrules:\n  - resource: services\n    verbs: [get]\n    namespace: Bad!\n' },
      });
      expect(res.status).toBe(200);
      expect(res.body.valid).toBe(false);
      expect(res.body.errors[0]).toMatchObject({ line: 5, column: 5, path: 'rules[0].namespace' });
    });

    it('users list pages by name', async () => {
      const first = await runed.request('GET', '/v1/users?limit=2', { token: root });
      expect(first.body.items).toHaveLength(2);
      const second = await runed.request('GET', `/v1/users?limit=2&cursor=${first.body.nextCursor}`, { token: root });
      expect(second.body.items[0].name > first.body.items[1].name).toBe(true);
    });

    it('a user cannot delete itself; deleting another user works', async () => {
      expect((await runed.request('DELETE', '/v1/users/root', { token: root })).status).toBe(409);
      expect((await runed.request('DELETE', '/v1/users/frank', { token: root })).status).toBe(200);
      expect((await runed.request('GET', '/v1/users/frank', { token: root })).status).toBe(404);
    });

    it('namespaces: default and system are seeded and undeletable; others come and go', async () => {
      const list = await runed.request('GET', '/v1/namespaces', { token: viewer });
      expect(list.body.items.map((n: { name: string }) => n.name)).toEqual(expect.arrayContaining(['default', 'system']));
      expect((await runed.request('DELETE', '/v1/namespaces/default', { token: root })).status).toBe(409);
      expect((await runed.request('POST', '/v1/namespaces', { token: dev, body: { name: 'stg' } })).status).toBe(201);
      expect((await runed.request('POST', '/v1/namespaces', { token: dev, body: { name: 'stg' } })).status).toBe(409);
      expect((await runed.request('DELETE', '/v1/namespaces/stg', { token: dev })).status).toBe(200);
      expect((await runed.request('DELETE', '/v1/namespaces/stg', { token: root })).status).toBe(404);
    });
  });
});

describe('the localhost gate for admin operations (inject sets the peer address)', () => {
  const setup = async (allowRemoteAdmin: boolean) => {
    const d = await inProcessDaemon((c) => (c.auth.allowRemoteAdmin = allowRemoteAdmin));
    const root = (await d.inject('POST', '/v1/bootstrap')).body.secret as string;
    return { d, root };
  };
  const REMOTE = '198.51.100.7';

  it.each([
    ['GET', '/v1/users'],
    ['POST', '/v1/users'],
    ['GET', '/v1/policies'],
    ['DELETE', '/v1/namespaces/default'],
  ] as const)('%s %s from a remote peer → 403 saying admin is loopback-only', async (method, url) => {
    const { d, root } = await setup(false);
    try {
      const res = await d.inject(method, url, { remoteAddress: REMOTE, token: root, ...(method === 'POST' ? { body: { name: 'x' } } : {}) });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/accepted only on the daemon's host \(loopback\); set auth.allowRemoteAdmin: true/);
    } finally {
      await d.close();
    }
  });

  it('self-service token calls and whoami work remotely', async () => {
    const { d, root } = await setup(false);
    try {
      expect((await d.inject('GET', '/v1/whoami', { remoteAddress: REMOTE, token: root })).status).toBe(200);
      const created = await d.inject('POST', '/v1/tokens', { remoteAddress: REMOTE, token: root, body: { name: 'mine' } });
      expect(created.status).toBe(201);
      expect((await d.inject('GET', `/v1/tokens/${created.body.token.id}`, { remoteAddress: REMOTE, token: root })).status).toBe(200);
      expect((await d.inject('DELETE', `/v1/tokens/${created.body.token.id}`, { remoteAddress: REMOTE, token: root })).status).toBe(200);
      expect((await d.inject('GET', '/v1/tokens', { remoteAddress: REMOTE, token: root })).status).toBe(200);
    } finally {
      await d.close();
    }
  });

  it('with auth.allowRemoteAdmin the same admin calls are accepted', async () => {
    const { d, root } = await setup(true);
    try {
      expect((await d.inject('GET', '/v1/users', { remoteAddress: REMOTE, token: root })).status).toBe(200);
      expect((await d.inject('POST', '/v1/users', { remoteAddress: REMOTE, token: root, body: { name: 'x' } })).status).toBe(201);
    } finally {
      await d.close();
    }
  });
});
