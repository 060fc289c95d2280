import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Runed } from '../helpers/runed.js';
import { withTestDb } from '../helpers/storeDb.js';

/** A request whose path reaches the server byte for byte (fetch would normalise dot segments). */
function rawRequest(base: string, method: string, path: string, opts: { token?: string; body?: string; localAddress?: string } = {}) {
  const url = new URL(base);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers, ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

async function auditEvents(runed: Runed, root: string, query = '') {
  const res = await runed.request('GET', `/v1/audit?limit=1000${query}`, { token: root });
  return res.body.items as Array<Record<string, any>>;
}

describe('runed under attack', () => {
  let runed: Runed;
  let root: string;

  beforeAll(async () => {
    runed = await Runed.start(['--set', 'auth.failedAuthLimit=100000', '--set', 'auth.failedAuthPerSecond=100000', '--log-level', 'debug']);
    root = await runed.bootstrap();
  });
  afterAll(() => runed.cleanup());

  describe('every spelling of a /v1 path is authenticated (item 7)', () => {
    const families: [string, string, string?][] = [
      ['GET', '/whoami'],
      ['GET', '/users'],
      ['POST', '/users', '{"name":"ci-stg"}'],
      ['PUT', '/users/alice/policies/root'],
      ['GET', '/serviceaccounts'],
      ['POST', '/serviceaccounts', '{"name":"x"}'],
      ['GET', '/policies'],
      ['POST', '/policies/lint', '{"name":"p","rules":[]}'],
      ['GET', '/tokens'],
      ['POST', '/tokens', '{"name":"x","subjectName":"root"}'],
      ['GET', '/namespaces'],
      ['POST', '/namespaces', '{"name":"x"}'],
      ['GET', '/registries'],
      ['GET', '/audit'],
      ['POST', '/authz/check', '{"verb":"get","resource":"users"}'],
    ];
    const spellings = (rest: string) => {
      const [first = '', ...others] = rest.slice(1).split('/');
      const encodedFirst = `%${first.charCodeAt(0).toString(16)}${first.slice(1)}`;
      return [
        `/v1${rest}`,
        `/%761${rest}`,
        `/%76%31${rest}`,
        `/v1/${[encodedFirst, ...others].join('/')}`,
        `//v1${rest}`,
        `/v1/${rest}`,
        `/v1/.${rest}`,
        `/v1/../v1${rest}`,
        `/x/../v1${rest}`,
        `/V1${rest}`,
        `/v1${rest.toUpperCase()}`,
        `/v1${rest}/`,
        `/v1${rest}?x=1`,
        `/v1%2f${rest.slice(1)}`,
      ];
    };
    for (const [method, rest, body] of families) {
      it(`${method} /v1${rest} in every spelling answers 401 or 404 without a token, never the route`, async () => {
        const wrong: string[] = [];
        for (const path of spellings(rest)) {
          const res = await rawRequest(runed.url, method, path, body === undefined ? {} : { body });
          if (res.status !== 401 && res.status !== 404) wrong.push(`${method} ${path} → ${res.status} ${res.body}`);
        }
        expect(wrong).toEqual([]);
      });
    }

    it('the decoded spelling with a token reaches the route', async () => {
      const res = await rawRequest(runed.url, 'GET', '/%761/whoami', { token: root });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body).subject.name).toBe('root');
    });
  });

  describe('authorization comes before existence (item 8)', () => {
    it('a caller without the right learns nothing about which names are taken', async () => {
      const svc = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'ci-stg', permissions: ['read'] } });
      expect(svc.status).toBe(201);
      const dev = await runed.userWithToken(root, 'dev-one', ['readwrite']);
      const answers = [];
      for (const name of ['ci-stg', 'root', 'never-seen']) {
        const user = await runed.request('POST', '/v1/users', { token: dev, body: { name } });
        const sa = await runed.request('POST', '/v1/serviceaccounts', { token: dev, body: { name } });
        const check = await runed.request('POST', '/v1/authz/check', { token: dev, body: { subject: name, verb: 'get', resource: 'services' } });
        answers.push([user.status, user.body.error.message.replace(name, 'NAME'), sa.status, check.status]);
      }
      expect(answers[0]).toEqual([403, expect.stringContaining('may not create users'), 403, 403]);
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[2]).toEqual(answers[0]);
    });
  });

  describe('a narrowed token is a boundary (item 9)', () => {
    let narrowed: string;
    let narrowedId: string;
    let siblingId: string;
    beforeAll(async () => {
      const sibling = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'sibling' } });
      siblingId = sibling.body.token.id;
      const res = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'ro', policies: ['readonly'] } });
      narrowed = res.body.secret;
      narrowedId = res.body.token.id;
    });

    it('a token it mints carries its narrowing and cannot create users', async () => {
      const minted = await runed.request('POST', '/v1/tokens', { token: narrowed, body: { name: 'x' } });
      expect(minted.status).toBe(201);
      expect(minted.body.token.policies).toEqual(['readonly']);
      const tryUser = await runed.request('POST', '/v1/users', { token: minted.body.secret, body: { name: 'evil' } });
      expect(tryUser.status).toBe(403);
    });

    it('asking for a stronger narrowing is refused with the missing rules', async () => {
      // root holds "root": narrowing to it would be wider than the readonly token asking.
      const res = await runed.request('POST', '/v1/tokens', { token: narrowed, body: { name: 'x', policies: ['root'] } });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toContain('stronger than the token creating it');
      expect(res.body.error.details.missingRules.length).toBeGreaterThan(0);
      const attach = await runed.request('POST', '/v1/tokens', { token: narrowed, body: { name: 'x', policies: ['admin'] } });
      expect(attach.status).toBe(403);
    });

    it('it cannot see, change or revoke its siblings, the root token included; itself it can', async () => {
      expect((await runed.request('GET', `/v1/tokens/${siblingId}`, { token: narrowed })).status).toBe(404);
      expect((await runed.request('PATCH', `/v1/tokens/${siblingId}`, { token: narrowed, body: { enabled: false } })).status).toBe(404);
      expect((await runed.request('DELETE', `/v1/tokens/${siblingId}`, { token: narrowed })).status).toBe(404);
      const list = await runed.request('GET', '/v1/tokens', { token: narrowed });
      expect(list.body.items.map((t: { id: string }) => t.id)).toEqual([narrowedId]);
      expect((await runed.request('GET', '/v1/tokens?search=sibling', { token: narrowed })).body.items).toEqual([]);
      expect((await runed.request('GET', '/v1/tokens?search=RO', { token: narrowed })).body.items.map((t: { id: string }) => t.id)).toEqual([narrowedId]);
      expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
      expect((await runed.request('GET', `/v1/tokens/${narrowedId}`, { token: narrowed })).status).toBe(200);
    });
  });

  describe('tokens rights do not lead to root (item 10)', () => {
    it('a holder of tokens:* cannot mint a token for root, or for anyone stronger than itself', async () => {
      await runed.request('POST', '/v1/policies', { token: root, body: { name: 'token-admin', rules: [{ resource: 'tokens', verbs: ['*'] }] } });
      const tm = await runed.userWithToken(root, 'token-manager', ['token-admin']);
      const forRoot = await runed.request('POST', '/v1/tokens', { token: tm, body: { name: 'mine-now', subjectName: 'root' } });
      expect(forRoot.status).toBe(403);
      expect(forRoot.body.error.details.missingRules.length).toBeGreaterThan(0);
      await runed.userWithToken(root, 'reader', ['readonly']);
      expect((await runed.request('POST', '/v1/tokens', { token: tm, body: { name: 'r', subjectName: 'reader' } })).status).toBe(403);
      // Narrowed to what the caller holds, the token is no stronger than the caller: allowed.
      await runed.request('PUT', '/v1/users/root/policies/token-admin', { token: root });
      const weak = await runed.request('POST', '/v1/tokens', { token: tm, body: { name: 'r', subjectName: 'root', policies: ['token-admin'] } });
      expect(weak.status).toBe(201);
      expect((await runed.request('POST', '/v1/users', { token: weak.body.secret, body: { name: 'evil' } })).status).toBe(403);
    });

    it('a service account holding tokens rights cannot either', async () => {
      const sa = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'token-bot', permissions: ['read'] } });
      await runed.request('PUT', '/v1/serviceaccounts/token-bot/policies/token-admin', { token: root });
      const res = await runed.request('POST', '/v1/tokens', { token: sa.body.secret, body: { name: 'x', subjectName: 'root' } });
      expect(res.status).toBe(403);
    });
  });

  describe('root is always held by someone (item 11)', () => {
    it('the last root holder cannot be deleted or lose root; with a second holder it can', async () => {
      const other = await runed.userWithToken(root, 'other-admin', ['admin']);
      const del = await runed.request('DELETE', '/v1/users/root', { token: other });
      expect(del.status).toBe(409);
      expect(del.body.error.message).toContain('no subject holding the "root" policy');
      expect((await runed.request('DELETE', '/v1/users/root/policies/root', { token: root })).status).toBe(409);
      expect((await runed.request('POST', '/v1/users', { token: root, body: { name: 'root', policies: ['admin'] } })).status).toBe(409);
      expect((await runed.request('GET', '/v1/users/root', { token: root })).body.policies).toContain('root');

      await runed.request('PUT', '/v1/users/other-admin/policies/root', { token: root });
      const sa = await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'root-bot', permissions: ['read'] } });
      expect(sa.status).toBe(201);
      await runed.request('PUT', '/v1/serviceaccounts/root-bot/policies/root', { token: root });
      expect((await runed.request('DELETE', '/v1/users/other-admin/policies/root', { token: root })).status).toBe(200);
      expect((await runed.request('DELETE', '/v1/serviceaccounts/root-bot', { token: root })).status).toBe(200);
    });
  });

  describe('an owner cannot undo an administrator\'s disable (item 12)', () => {
    it('re-enabling needs the tokens right unless the owner disabled it', async () => {
      const alice = await runed.userWithToken(root, 'alice', ['readwrite']);
      const second = await runed.request('POST', '/v1/tokens', { token: alice, body: { name: 'laptop' } });
      const id = second.body.token.id;
      expect((await runed.request('PATCH', `/v1/tokens/${id}`, { token: root, body: { enabled: false } })).status).toBe(200);
      const undo = await runed.request('PATCH', `/v1/tokens/${id}`, { token: alice, body: { enabled: true } });
      expect(undo.status).toBe(403);
      expect(undo.body.error.message).toContain('disabled by an administrator');
      expect((await runed.request('GET', '/v1/whoami', { token: second.body.secret })).status).toBe(401);
      // What the owner disabled itself, it may enable again; the administrator always may.
      const third = await runed.request('POST', '/v1/tokens', { token: alice, body: { name: 'phone' } });
      expect((await runed.request('PATCH', `/v1/tokens/${third.body.token.id}`, { token: alice, body: { enabled: false } })).status).toBe(200);
      expect((await runed.request('PATCH', `/v1/tokens/${third.body.token.id}`, { token: alice, body: { enabled: true } })).status).toBe(200);
      expect((await runed.request('PATCH', `/v1/tokens/${id}`, { token: root, body: { enabled: true } })).status).toBe(200);
      expect((await runed.request('GET', '/v1/whoami', { token: second.body.secret })).status).toBe(200);
    });
  });

  describe('explain and enforcement agree (item 13)', () => {
    it('an admin resource asked with a namespace gets the answer the route gives', async () => {
      await runed.request('POST', '/v1/policies', { token: root, body: { name: 'users-in-dev', rules: [{ resource: 'users', verbs: ['list'], namespace: 'dev' }] } });
      const carol = await runed.userWithToken(root, 'carol', ['users-in-dev']);
      const check = await runed.request('POST', '/v1/authz/check', { token: carol, body: { verb: 'list', resource: 'users', namespace: 'dev' } });
      const real = await runed.request('GET', '/v1/users', { token: carol });
      expect(real.status).toBe(403);
      expect(check.body.allowed).toBe(false);
      expect(check.body.reason).toContain('cluster-scoped');
    });
  });

  describe('type confusion is a 400 naming the field (item 6)', () => {
    it('a registry name that is an object answers the same 400 on create and replace', async () => {
      const reg = { server: 'ghcr.io', username: 'bot', password: 'pw' };
      expect((await runed.request('POST', '/v1/registries', { token: root, body: { name: 'r1', ...reg } })).status).toBe(201);
      const put = await runed.request('PUT', '/v1/registries/r1', { token: root, body: { name: { toString: 'x' } } });
      const post = await runed.request('POST', '/v1/registries', { token: root, body: { name: { toString: 'x' }, ...reg } });
      expect(put.status).toBe(400);
      expect(put.body.error).toEqual(post.body.error);
      expect(put.body.error.details.field).toBe('name');
      for (const name of [['r1'], 7, true, { valueOf: 1 }]) {
        expect((await runed.request('PUT', '/v1/registries/r1', { token: root, body: { name, ...reg } })).status).toBe(400);
      }
      const items = await runed.request('POST', '/v1/users', { token: root, body: { name: 'typed', policies: ['readonly', 1] } });
      expect(items.body.error).toMatchObject({ message: 'policies must be a list of strings', details: { field: 'policies' } });
    });
  });

  describe('text that cannot be stored as it came is refused', () => {
    it('a lone surrogate anywhere in a JSON body is a 400 naming where, never stored', async () => {
      const raw = (data: string) => runed.request('POST', '/v1/policies', { token: root, raw: { contentType: 'application/json', data } });
      const res = await raw('{"name":"lonely","description":"\\udfff\\ud800","rules":[]}');
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe('description');
      expect((await runed.request('GET', '/v1/policies/lonely', { token: root })).status).toBe(404);
      const deep = `${'['.repeat(100_000)}"\\ud800"${']'.repeat(100_000)}`;
      expect((await raw(deep)).status).toBe(400);
      expect((await raw('{"name":"fine","description":"\\ud83d\\ude00","rules":[]}')).status).toBe(201);
      expect((await runed.request('GET', '/healthz')).status).toBe(200);
    });

    it('a NUL character in a JSON body, a path or a query is a 400 naming where, the same on either engine', async () => {
      const res = await runed.request('POST', '/v1/tokens', { token: root, raw: { contentType: 'application/json', data: '{"name":"nul","description":"a\\u0000b"}' } });
      expect(res.status).toBe(400);
      expect(res.body.error.details.field).toBe('description');
      expect(res.body.error.message).toMatch(/cannot be stored/);
      // No name can hold it, and PostgreSQL could not even compare it: refused before any lookup.
      for (const [method, path, field] of [
        ['GET', '/v1/serviceaccounts/a%00b', 'name'],
        ['DELETE', '/v1/serviceaccounts/a%00b', 'name'],
        ['PUT', '/v1/users/root%00/policies/readonly', 'name'],
        ['GET', '/v1/tokens/t%00', 'id'],
        ['GET', '/v1/tokens?search=a%00b', 'search'],
        ['GET', '/v1/audit?actor=root%00', 'actor'],
        ['GET', '/v1/users?search=ok&search=a%00', 'search'],
      ] as const) {
        const res = await runed.request(method, path, { token: root });
        expect(res.status, `${method} ${path}`).toBe(400);
        expect(res.body.error.message).toMatch(/holds a NUL character/);
        expect(res.body.error.details.field).toBe(field);
      }
      // YAML has its own escapes: "\0" in a policy is refused on SQLite too, which would store it (and fail a later move to PostgreSQL).
      const yamlNul = await runed.request('POST', '/v1/policies', { token: root, raw: { contentType: 'application/yaml', data: 'name: nul-yaml\ndescription: "a\\0b"\nrules: []\n' } });
      expect(yamlNul.status).toBe(400);
      expect(JSON.stringify(yamlNul.body)).toMatch(/cannot be stored/);
      expect((await runed.request('GET', '/v1/policies/nul-yaml', { token: root })).status).toBe(404);
      const oddKey = await runed.request('GET', '/v1/users?%22%00=1', { token: root });
      expect(oddKey.status).toBe(400);
      expect(oddKey.body.error.details.field).toBe('"\u0000');
      // Without a token it is still a 401 first: the check says nothing to a stranger.
      expect((await runed.request('GET', '/v1/users/a%00b')).status).toBe(401);
      // A percent sign that is not a NUL passes through to the lookup.
      expect((await runed.request('GET', '/v1/users/a%2500b', { token: root })).status).toBe(404);
      expect((await runed.request('GET', '/healthz')).status).toBe(200);
    });
  });

  describe('an expiry no client could read is refused, and one stored by an older runed does not break the lists', () => {
    it('a TTL past 100 years is a 400 naming it, stores nothing and changes nothing', async () => {
      const kept = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'kept-expiry', ttl: '1h' } });
      for (const [method, path, body, field] of [
        ['POST', '/v1/tokens', { name: 'forever-ish', ttl: '100000000d' }, 'ttl'],
        ['POST', '/v1/tokens', { name: 'forever-ish', ttl: '9007199254740991ms' }, 'ttl'],
        ['PATCH', `/v1/tokens/${kept.body.token.id}`, { ttl: '36501d' }, 'ttl'],
      ] as const) {
        const res = await runed.request(method, path, { token: root, body });
        expect(res.status, JSON.stringify(res.body)).toBe(400);
        expect(res.body.error.message).toMatch(/longer than 36500d \(100 years\)/);
        expect(res.body.error.details.field).toBe(field);
      }
      expect((await runed.request('GET', '/v1/tokens?expiresWithin=100000000d', { token: root })).status).toBe(400);
      const listed = await runed.request('GET', '/v1/tokens?search=forever-ish', { token: root });
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual([]);
      expect((await runed.request('GET', `/v1/tokens/${kept.body.token.id}`, { token: root })).body.expiresAt).toBe(kept.body.token.expiresAt);
      expect((await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'century', ttl: '36500d' } })).status).toBe(201);
    });

    it('a token whose stored expiry is past the last date reads as expiring then, in lists and whoami', async () => {
      const old = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'stored-long-ago' } });
      await withTestDb(runed, (db) => db.run('UPDATE tokens SET expires_at = ? WHERE id = ?', [9e15, old.body.token.id]));
      const listed = await runed.request('GET', '/v1/tokens?search=stored-long-ago', { token: root });
      expect(listed.status, JSON.stringify(listed.body)).toBe(200);
      expect(listed.body.items[0].expiresAt).toBe('+275760-09-13T00:00:00.000Z');
      const me = await runed.request('GET', '/v1/whoami', { token: old.body.secret });
      expect(me.status).toBe(200);
      expect(me.body.token.expiresAt).toBe('+275760-09-13T00:00:00.000Z');
    });
  });

  describe('what a refusal quotes of the request is bounded, in the answer and in the audit trail', () => {
    it('a megabyte name, TTL or unknown field: a short 400, and at most a kilobyte in the trail', async () => {
      const big = 'A'.repeat(1_000_000);
      for (const [path, body, field] of [
        ['/v1/namespaces', { name: big }, 'name'],
        ['/v1/tokens', { name: 'fine', ttl: big }, 'ttl'],
        ['/v1/users', { name: 'fine', [big]: 1 }, `${'A'.repeat(100)}… (1000000 characters)`],
      ] as const) {
        const res = await runed.request('POST', path, { token: root, body });
        expect(res.status, path).toBe(400);
        expect(res.body.error.details.field).toBe(field);
        expect(res.body.error.message).toContain('… (1000000 characters)');
        expect(res.body.error.message.length).toBeLessThan(400);
      }
      const events = (await runed.request('GET', '/v1/audit?outcome=error&limit=3', { token: root })).body.items as { message: string }[];
      expect(events.map((e) => e.message)).toEqual([expect.stringContaining('… (1000000 characters)'), expect.stringContaining('… (1000000 characters)'), expect.stringContaining('… (1000000 characters)')]);
    });

    it('a refusal longer than a kilobyte (a user with many missing policies) is cut to one in its audit event', async () => {
      const policies = Array.from({ length: 40 }, (_, i) => `missing-${'q'.repeat(40)}-${i}`);
      const res = await runed.request('POST', '/v1/users', { token: root, body: { name: 'many-missing', policies } });
      expect(res.status).toBe(400);
      expect(res.body.error.message.length).toBeGreaterThan(1000);
      const [event] = (await runed.request('GET', '/v1/audit?outcome=error&limit=1', { token: root })).body.items as { message: string }[];
      expect(event!.message).toMatch(/^invalid_argument: .*… \(\d{4,} characters\)$/s);
      expect(event!.message.length).toBeLessThanOrEqual(1000 + '… (99999 characters)'.length);
    });
  });

  describe('a forged cursor is a 400 naming the cursor, on either engine', () => {
    it('a key of the wrong type, a NUL or a lone surrogate inside, an id that is not a number', async () => {
      const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
      for (const path of [
        `/v1/tokens?sort=created&cursor=${cursor(['created', 'abc', 'tok_x'])}`,
        `/v1/tokens?sort=-expires&cursor=${cursor(['-expires', '1e400', 'tok_x'])}`,
        `/v1/users?sort=created&cursor=${cursor(['created', '12.5', 'usr_x'])}`,
        `/v1/users?cursor=${cursor(['name', 'a\u0000', 'usr_x'])}`,
        `/v1/namespaces?cursor=${cursor(['a\u0000'])}`,
        `/v1/policies?cursor=${cursor(['\ud800'])}`,
        `/v1/audit?cursor=${cursor(['abc'])}`,
        `/v1/audit?cursor=${cursor(['1e3'])}`,
      ]) {
        const res = await runed.request('GET', path, { token: root });
        expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error.details.field).toBe('cursor');
      }
      const huge = await runed.request('GET', '/v1/audit?after=99999999999999999999', { token: root });
      expect(huge.status).toBe(400);
      expect(huge.body.error.details.field).toBe('after');
      // A real cursor still pages.
      for (const name of ['paged-a', 'paged-b']) await runed.request('POST', '/v1/namespaces', { token: root, body: { name } });
      const first = await runed.request('GET', '/v1/audit?limit=1', { token: root });
      expect(first.body.nextCursor).toEqual(expect.any(String));
      const next = await runed.request('GET', `/v1/audit?limit=1&cursor=${first.body.nextCursor}`, { token: root });
      expect(next.status, JSON.stringify(next.body)).toBe(200);
    });
  });

  describe('a pasted secret is never stored or logged (item 20)', () => {
    it('a full bearer string in a path is refused and redacted from the answer, the audit and the log', async () => {
      const victim = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'pasted' } });
      const secret: string = victim.body.secret;
      const tail = secret.slice(-30);
      for (const method of ['GET', 'DELETE', 'PATCH'] as const) {
        const res = await runed.request(method, `/v1/tokens/${secret}`, { token: root, ...(method === 'PATCH' ? { body: { enabled: false } } : {}) });
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body)).not.toContain(tail);
        expect(res.body.error.message).toContain(`${victim.body.token.id}_[redacted]`);
      }
      expect((await runed.request('GET', `/v1/nowhere/${secret}`, { token: root })).status).toBe(404);
      expect((await runed.request('GET', `/v1/tokens/${secret}`)).status).toBe(401);
      expect(JSON.stringify(await auditEvents(runed, root))).not.toContain(tail);
      expect(runed.logs).not.toContain(tail);
      expect((await runed.request('GET', '/v1/whoami', { token: secret })).status).toBe(200);
    });
  });
});

describe('brute force (items 14–16)', () => {
  it('requests without a token are counted and limited per address, and summarised in the audit', async () => {
    // The window must outlast the 41 requests below on a slow machine, or the limiter starts over.
    const runed = await Runed.start(['--set', 'auth.failedAuthLimit=10', '--set', 'auth.failedAuthWindow=6s']);
    try {
      const root = await runed.bootstrap();
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await runed.request('GET', '/v1/whoami')).status);
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses.slice(10)).toEqual(Array(30).fill(429));
      expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
      // One event for the first failure, then one summary per window and reason: not 40 rows.
      // Both summaries are written when their windows end; on PostgreSQL the two appends may commit
      // in either order, so wait for both before counting.
      const events = await eventually('both summary events', async () => {
        const found = (await auditEvents(runed, root)).filter((e) => e.action === 'authenticate');
        const summarised = (re: RegExp) => found.some((e) => re.test(e.message));
        return summarised(/^missing: 9 more/) && summarised(/^rate_limited: 29 more/) ? found : undefined;
      }, 20_000);
      const messages = events.map((e) => e.message);
      expect(messages).toHaveLength(4);
      expect(messages).toEqual(expect.arrayContaining(['missing', expect.stringMatching(/^missing: 9 more from 127\.0\.0\.0\/24/), 'rate_limited', expect.stringMatching(/^rate_limited: 29 more/)]));
    } finally {
      await runed.cleanup();
    }
  });

  it('rotating loopback addresses of one /24 does not reset the count', async () => {
    const runed = await Runed.start(['--set', 'auth.failedAuthLimit=20', '--set', 'auth.failedAuthWindow=1h']);
    try {
      const statuses: number[] = [];
      for (let i = 1; i <= 60; i++) statuses.push((await rawRequest(runed.url, 'GET', '/v1/whoami', { token: 'rune_guess', localAddress: `127.0.0.${i}` })).status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(20);
      expect(statuses.filter((s) => s === 429)).toHaveLength(40);
    } finally {
      await runed.cleanup();
    }
  });

  it('a global ceiling limits failures spread over many networks', async () => {
    const runed = await Runed.start(['--set', 'auth.failedAuthLimit=1000', '--set', 'auth.failedAuthPerSecond=30']);
    try {
      const root = await runed.bootstrap();
      const statuses = await Promise.all(
        Array.from({ length: 120 }, (_, i) => rawRequest(runed.url, 'GET', '/v1/whoami', { token: 'rune_guess', localAddress: `127.${i + 1}.0.1` }).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect((await runed.request('GET', '/v1/whoami', { token: root })).status).toBe(200);
    } finally {
      await runed.cleanup();
    }
  });
});

describe('no action without its record (item 19)', () => {
  it('when the audit event cannot be written the change is rolled back and the answer is 503', async () => {
    let runed = await Runed.start();
    const root = await runed.bootstrap();
    await runed.stop();
    await withTestDb(runed, async (db) => {
      if (runed.store.kind === 'postgres') {
        await db.run(`CREATE FUNCTION refuse_user_audit() RETURNS trigger LANGUAGE plpgsql AS $$
                      BEGIN IF NEW.resource = 'users' AND NEW.action = 'create' THEN RAISE EXCEPTION 'audit store refuses'; END IF; RETURN NEW; END $$`);
        await db.run('CREATE TRIGGER refuse_user_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_user_audit()');
      } else {
        await db.run(`CREATE TRIGGER refuse_user_audit BEFORE INSERT ON audit_events WHEN NEW.resource = 'users' AND NEW.action = 'create'
                      BEGIN SELECT RAISE(ABORT, 'audit store refuses'); END`);
      }
    });
    runed = await Runed.start([], { dataDir: runed.dataDir });
    try {
      const res = await runed.request('POST', '/v1/users', { token: root, body: { name: 'ghost' } });
      expect(res.status).toBe(503);
      expect(res.body.error.message).toContain('the change was not made');
      expect((await runed.request('GET', '/v1/users/ghost', { token: root })).status).toBe(404);
      // Other changes, whose events can be written, go on.
      expect((await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'still-fine' } })).status).toBe(201);
    } finally {
      await runed.cleanup();
    }
  });

  it('after kill -9 during a burst, every token that exists has its audit event', async () => {
    let runed = await Runed.start();
    const root = await runed.bootstrap();
    let stop = false;
    let created = 0;
    const worker = async () => {
      while (!stop) {
        try {
          const r = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'burst' } });
          if (r.status === 201) created++;
        } catch {
          return;
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await eventually('60 acknowledged tokens', () => created >= 60, 20_000, 5);
    await runed.stop('SIGKILL');
    stop = true;
    await Promise.all(workers);
    const { orphans, tokens } = await withTestDb(runed, async (db) => ({
      orphans: await db.all(`SELECT id FROM tokens WHERE id NOT IN (SELECT ref FROM audit_events WHERE resource = 'tokens' AND action IN ('create', 'bootstrap') AND ref IS NOT NULL)`),
      tokens: (await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tokens'))!.n,
    }));
    await runed.cleanup();
    expect(tokens).toBeGreaterThanOrEqual(60);
    expect(orphans).toEqual([]);
  });
});

describe('an expiry past the last date, stored by an older runed', () => {
  it('is brought to that date by a migration, so even a PostgreSQL client that cannot hold it reads the token again', async () => {
    let runed = await Runed.start();
    try {
      const root = await runed.bootstrap();
      const t = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'from-long-ago' } });
      await runed.stop();
      // As an older runed left it: past 2^53, and the migration that caps it not applied yet.
      await withTestDb(runed, async (db) => {
        await db.run('UPDATE tokens SET expires_at = ? WHERE id = ?', [9.2e15, t.body.token.id]);
        await db.run('DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)');
      });
      runed = await Runed.start([], { dataDir: runed.dataDir });
      const listed = await runed.request('GET', '/v1/tokens?search=from-long-ago', { token: root });
      expect(listed.status, JSON.stringify(listed.body)).toBe(200);
      expect(listed.body.items[0].expiresAt).toBe('+275760-09-13T00:00:00.000Z');
      expect((await runed.request('GET', '/v1/whoami', { token: t.body.secret })).status).toBe(200);
    } finally {
      await runed.cleanup();
    }
  });
});
