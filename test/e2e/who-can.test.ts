import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOM_POLICIES, IDENTITIES } from '../helpers/escalationIdentities.js';
import { Cli } from '../helpers/rune.js';
import { Runed } from '../helpers/runed.js';

type Access = { verb: string; resource: string; namespace?: string };

/** The questions asked of both who-can and can-i: admin rights, delegations, workloads in and out of a namespace. */
const TRIPLES: Access[] = [
  ...['users', 'serviceaccounts', 'policies', 'tokens', 'registries', 'audit'].flatMap((resource) => ['list', 'create', 'delete'].map((verb) => ({ verb, resource }))),
  { verb: 'update', resource: 'users' },
  { verb: 'bind', resource: 'policies' },
  { verb: 'escalate', resource: 'policies' },
  { verb: 'create', resource: 'namespaces' },
  { verb: 'delete', resource: 'namespaces', namespace: 'dev' },
  ...['get', 'list', 'delete', 'scale'].flatMap((verb) => [
    { verb, resource: 'services' },
    { verb, resource: 'services', namespace: 'dev' },
    { verb, resource: 'services', namespace: 'prod' },
  ]),
  { verb: 'create', resource: 'secrets', namespace: 'dev' },
  { verb: 'exec', resource: 'instances', namespace: 'prod' },
  { verb: 'teleport', resource: 'services', namespace: 'dev' },
];

const query = (a: Access) => `/v1/authz/who-can?verb=${a.verb}&resource=${a.resource}${a.namespace ? `&namespace=${a.namespace}` : ''}`;

describe('GET /v1/authz/who-can', () => {
  let runed: Runed;
  let root: string;
  /** Bearer strings by identity of the escalation matrix. */
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
    const as = async (method: string, path: string, body?: unknown) => {
      const res = await runed.request(method, path, { token: root, ...(body !== undefined ? { body } : {}) });
      if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    for (const [name, rules] of Object.entries(CUSTOM_POLICIES)) await as('POST', '/v1/policies', { name, rules });
    await as('POST', '/v1/namespaces', { name: 'dev' });
    await runed.userWithToken(root, 'bob', ['readonly']);
    for (const [identity, spec] of Object.entries(IDENTITIES)) {
      const narrowing = spec.narrowing ? { policies: spec.narrowing } : {};
      if (spec.kind === 'root') tokens[identity] = (await as('POST', '/v1/tokens', { name: `narrowed-${identity}`, ...narrowing })).secret;
      else if (spec.kind === 'sa') tokens[identity] = (await as('POST', '/v1/serviceaccounts', { name: `sa-${identity.toLowerCase()}`, ...spec.sa })).secret;
      else tokens[identity] = await runed.userWithToken(root, identity.toLowerCase(), spec.policies!, narrowing);
    }
    // Tokens that are not live never count: one disabled, one revoked, one expired-by-narrowing-to-nothing is still live.
    const disabled = await as('POST', '/v1/tokens', { name: 'off', subjectName: 'readwrite' });
    await as('PATCH', `/v1/tokens/${disabled.token.id}`, { enabled: false });
    const revoked = await as('POST', '/v1/tokens', { name: 'gone', subjectName: 'readwrite' });
    await as('DELETE', `/v1/tokens/${revoked.token.id}`);
    // A token narrowed to a policy that is later deleted carries nothing (it fails closed).
    await as('POST', '/v1/policies', { name: 'short-lived', rules: [{ resource: 'services', verbs: ['get'], namespace: '*' }] });
    await as('POST', '/v1/tokens', { name: 'dangling', subjectName: 'readonly', policies: ['short-lived'] });
    await as('DELETE', '/v1/policies/short-lived');
  }, 120_000);
  afterAll(async () => runed.cleanup());

  it('agrees with can-i for every identity of the escalation matrix, subject by subject and token by token', async () => {
    const users = (await runed.request('GET', '/v1/users?limit=1000', { token: root })).body.items as { name: string }[];
    const accounts = (await runed.request('GET', '/v1/serviceaccounts?limit=1000', { token: root })).body.items as { name: string }[];
    const subjects = [...users, ...accounts].map((s) => s.name);
    expect(subjects).toEqual(expect.arrayContaining(['root', 'bob', 'tokensstarnarrowed', 'sa-saadminindev', 'narrowedtocustom']));
    const live = new Map<string, string[]>();
    for (const name of subjects) {
      const list = await runed.request('GET', `/v1/tokens?subject=${name}&status=active&limit=1000`, { token: root });
      live.set(name, (list.body.items as { id: string }[]).map((t) => t.id));
    }
    const mismatches: string[] = [];
    let granted = 0;
    for (const access of TRIPLES) {
      const res = await runed.request('GET', query(access), { token: root });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.tokensCounted).toBe(true);
      const listed = new Map((res.body.subjects as { name: string; via: unknown; tokens: number; liveTokens: number }[]).map((s) => [s.name, s]));
      for (const name of subjects) {
        const canI = (await runed.request('POST', '/v1/authz/check', { token: root, body: { subject: name, ...access } })).body;
        const entry = listed.get(name);
        const what = `${access.verb} ${access.resource}${access.namespace ? ` in ${access.namespace}` : ''} for ${name}`;
        if (Boolean(entry) !== canI.allowed) mismatches.push(`${what}: who-can ${entry ? 'lists' : 'omits'} it, can-i says ${canI.allowed ? 'yes' : 'no'}`);
        if (!entry) continue;
        granted++;
        if (JSON.stringify(entry.via) !== JSON.stringify(canI.decidedBy)) mismatches.push(`${what}: via ${JSON.stringify(entry.via)}, can-i decided by ${JSON.stringify(canI.decidedBy)}`);
        const ids = live.get(name)!;
        let carrying = 0;
        for (const id of ids) if ((await runed.request('POST', '/v1/authz/check', { token: root, body: { token: id, ...access } })).body.allowed) carrying++;
        if (entry.tokens !== carrying || entry.liveTokens !== ids.length) mismatches.push(`${what}: who-can counts ${entry.tokens}/${entry.liveTokens} tokens, can-i allows ${carrying} of ${ids.length}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(granted).toBeGreaterThan(TRIPLES.length); // the table asks questions with answers, not only "nobody"
  }, 240_000);

  it('counts a narrowed token only when its narrowing grants the right too', async () => {
    const res = await runed.request('GET', query({ verb: 'delete', resource: 'services', namespace: 'dev' }), { token: root });
    const byName = Object.fromEntries((res.body.subjects as { name: string }[]).map((s) => [s.name, s]));
    // readwrite through the subject, narrowed to readonly: the subject may, its token may not.
    expect(byName.tokensstarnarrowed).toMatchObject({ type: 'user', via: { policy: 'readwrite', index: 0 }, tokens: 0, liveTokens: 1 });
    // Live tokens only: the disabled and the revoked one are not counted.
    expect(byName.readwrite).toMatchObject({ tokens: 1, liveTokens: 1 });
    expect(byName['sa-saadminindev']).toMatchObject({ type: 'service', via: { policy: 'sa-saadminindev-admin' }, tokens: 1 });
    expect(byName.bob).toBeUndefined();
    // readonly's token narrowed to a deleted policy is live but carries nothing.
    const get = await runed.request('GET', query({ verb: 'get', resource: 'services', namespace: 'dev' }), { token: root });
    expect((get.body.subjects as { name: string }[]).find((s) => s.name === 'readonly')).toMatchObject({ tokens: 1, liveTokens: 2 });
  });

  it('drops a namespace given for a cluster-scoped resource, as enforcement does', async () => {
    const res = await runed.request('GET', query({ verb: 'list', resource: 'users', namespace: 'dev' }), { token: root });
    expect(res.status).toBe(200);
    expect(res.body.namespace).toBeUndefined();
    expect(res.body.subjects.map((s: { name: string }) => s.name)).toEqual(['policiesbindandusers', 'root', 'sa-saadmin', 'userscreateupdate']);
  });

  it('who may ask: those who may list users, service accounts and policies; token counts only with list on tokens', async () => {
    const ask = (token: string) => runed.request('GET', query({ verb: 'delete', resource: 'services', namespace: 'prod' }), { token });
    for (const identity of ['readonly', 'readwrite', 'tokensStar', 'policiesCreateUpdate', 'usersCreateUpdate', 'rootNarrowedReadonly', 'narrowedToCustom', 'saAdminInDev']) {
      const res = await ask(tokens[identity]!);
      expect(res.status, identity).toBe(403);
      expect(res.body.error.message, identity).toMatch(/missing permission "list" on "(users|serviceaccounts|policies)"/);
    }
    expect((await ask(tokens.saAdmin!)).body.tokensCounted).toBe(true);

    // A reader of the graph who may not see others' tokens gets no counts.
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'graph-reader', rules: [{ resource: 'users', verbs: ['list'] }, { resource: 'serviceaccounts', verbs: ['list'] }, { resource: 'policies', verbs: ['list'] }] } });
    const reader = await runed.userWithToken(root, 'auditor', ['graph-reader']);
    const res = await ask(reader);
    expect(res.status).toBe(200);
    expect(res.body.tokensCounted).toBe(false);
    expect(res.body.subjects.length).toBeGreaterThan(0);
    for (const s of res.body.subjects) expect(s.tokens ?? s.liveTokens).toBeUndefined();
    // Its token narrowed to readonly may not ask at all.
    const narrowed = (await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'n', subjectName: 'auditor', policies: ['readonly'] } })).body.secret;
    expect((await ask(narrowed)).status).toBe(403);
    const denied = await runed.request('GET', '/v1/audit?outcome=denied&actor=auditor', { token: root });
    expect(denied.body.items.length).toBeGreaterThan(0);
    expect((await runed.request('GET', query({ verb: 'get', resource: 'users' }))).status).toBe(401);
  });

  it('refuses bad input with the field named', async () => {
    for (const [path, message] of [
      ['/v1/authz/who-can?resource=services', 'verb'],
      ['/v1/authz/who-can?verb=get', 'resource'],
      ['/v1/authz/who-can?verb=&resource=services', 'verb is required'],
      ['/v1/authz/who-can?verb=get&resource=services&as=root', 'as'],
      [`/v1/authz/who-can?verb=get&resource=${'x'.repeat(100)}`, 'resource'],
    ] as const) {
      const res = await runed.request('GET', path, { token: root });
      expect(res.status, path).toBe(400);
      expect(res.body.error.message, path).toContain(message);
    }
  });

  it('rune admin who-can prints each subject, its tokens and the rule that grants it', async () => {
    const cli = new Cli({ RUNE_SERVER: runed.url, RUNE_TOKEN: root });
    const out = cli.ok(['admin', 'who-can', 'delete', 'services', '-n', 'dev']);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SUBJECT\s+TYPE\s+TOKENS\s+VIA$/);
    expect(out).toMatch(/\ntokensstarnarrowed\s+user\s+0\/1\s+readwrite rule 1 \(\[get, list, watch, create, update, delete, scale, exec\] on \* in \*\)\n/);
    expect(out).toMatch(/\nsa-saadminindev\s+service\s+1\s+sa-saadminindev-admin rule 1 /);
    expect(out).not.toMatch(/\nbob\s/);
    const json = JSON.parse(cli.ok(['admin', 'who-can', 'delete', 'services', '-n', 'dev', '-o', 'json']));
    expect(json).toMatchObject({ verb: 'delete', resource: 'services', namespace: 'dev', tokensCounted: true });
    // Only wildcard verbs reach a verb nobody names.
    expect(cli.ok(['admin', 'who-can', 'teleport', 'services'])).toMatch(/^SUBJECT.*\nroot\s+user\s+1\/2\s+root rule 1 \(\[\*\] on \* in \*\)\nsa-saadmin\s+service\s+1\s+admin rule 1 /);
    const refused = new Cli({ RUNE_SERVER: runed.url, RUNE_TOKEN: tokens.readonly! }).run(['admin', 'who-can', 'get', 'services']);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('missing permission "list" on "users"');
    expect(cli.ok(['admin', 'who-can', '--help'])).toMatch(/\nExamples:\n {2}rune admin who-can delete services -n prod\n/);
  });
});
