import { afterAll, describe, expect, it } from 'vitest';
import { CUSTOM_POLICIES, IDENTITIES, type IdentityName, type Rule } from '../helpers/escalationIdentities.js';
import { Runed } from '../helpers/runed.js';

/**
 * Escalation matrix of issue 11: identities with delegated rights, narrowed tokens and service
 * accounts try every move that could raise their rights. Each move's answer is pinned in a
 * decision table, and after each move the identity's effective rights (and those of any token the
 * move gave it) are probed and must stay within what it had at the start, except where the table
 * names a legitimate growth (`bind` or `escalate` on policies allow exactly that).
 */

/** What a move needs: the daemon, root, the identity under test and a bystander. */
interface World {
  runed: Runed;
  root: string;
  rootTokenId: string;
  name: string;
  kind: 'user' | 'sa' | 'root';
  token: string;
  tokenId: string;
  /** A second token of the identity's subject, disabled by root. */
  spareId: string;
  /** The policies its subject holds at the start. */
  subjectPolicies: string[];
}

interface Outcome {
  /** The status of each step, joined by "/". */
  status: string;
  /** Bearer strings the move obtained. */
  tokens: string[];
}

type Move = (w: World) => Promise<Outcome>;

const WIDE: Rule[] = [{ resource: '*', verbs: ['*'], namespace: '*' }];

async function step(w: World, method: string, path: string, body?: unknown): Promise<{ status: number; secret?: string }> {
  const res = await w.runed.request(method, path, { token: w.token, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, ...(typeof res.body?.secret === 'string' ? { secret: res.body.secret } : {}) };
}

async function steps(...results: { status: number; secret?: string }[]): Promise<Outcome> {
  return { status: results.map((r) => r.status).join('/'), tokens: results.flatMap((r) => (r.secret ? [r.secret] : [])) };
}

const subjectPath = (w: World) => (w.kind === 'sa' ? `/v1/serviceaccounts/${w.name}` : `/v1/users/${w.name}`);
const ownCustomPolicy = (w: World) => w.subjectPolicies.find((p) => p in CUSTOM_POLICIES) ?? 'p-custom';

/** The escalation moves, in the order they run; the revocation of root's token comes last. */
const MOVES: Record<string, Move> = {
  'mint own token': async (w) => steps(await step(w, 'POST', '/v1/tokens', { name: 'm-own' })),
  'mint own token with the subject\'s policies': async (w) => steps(await step(w, 'POST', '/v1/tokens', { name: 'm-subj', policies: w.subjectPolicies })),
  'mint own token with admin': async (w) => steps(await step(w, 'POST', '/v1/tokens', { name: 'm-admin', policies: ['admin'] })),
  'mint a token for root': async (w) => steps(await step(w, 'POST', '/v1/tokens', { name: 'm-root', subjectName: 'root' })),
  'mint a token for root narrowed to its own policies': async (w) =>
    steps(await step(w, 'POST', '/v1/tokens', { name: 'm-root-n', subjectName: 'root', policies: w.subjectPolicies })),
  'mint a token for another user': async (w) => steps(await step(w, 'POST', '/v1/tokens', { name: 'm-bob', subjectName: 'bob' })),
  'attach root to itself': async (w) => steps(await step(w, 'PUT', `${subjectPath(w)}/policies/root`)),
  'create a user holding root': async (w) => steps(await step(w, 'POST', '/v1/users', { name: 'evil', policies: ['root'] })),
  'create a user holding admin, then mint its token': async (w) =>
    steps(await step(w, 'POST', '/v1/users', { name: 'evil2', policies: ['admin'] }), await step(w, 'POST', '/v1/tokens', { name: 'm-evil2', subjectName: 'evil2' })),
  'attach admin to another user, then mint its token': async (w) =>
    steps(await step(w, 'PUT', '/v1/users/bob/policies/admin'), await step(w, 'POST', '/v1/tokens', { name: 'm-bob-admin', subjectName: 'bob' })),
  'create a policy granting *, then attach it to itself': async (w) =>
    steps(await step(w, 'POST', '/v1/policies', { name: 'star', rules: WIDE }), await step(w, 'PUT', `${subjectPath(w)}/policies/star`)),
  'widen its own policy to *': async (w) => steps(await step(w, 'PUT', `/v1/policies/${ownCustomPolicy(w)}`, { name: ownCustomPolicy(w), rules: WIDE })),
  'create an admin service account': async (w) => steps(await step(w, 'POST', '/v1/serviceaccounts', { name: 'evil-sa', permissions: ['admin'] })),
  'extend its own token\'s ttl': async (w) => steps(await step(w, 'PATCH', `/v1/tokens/${w.tokenId}`, { ttl: '8760h' })),
  're-enable a token root disabled': async (w) => steps(await step(w, 'PATCH', `/v1/tokens/${w.spareId}`, { enabled: true })),
  'revoke a sibling token': async (w) => steps(await step(w, 'DELETE', `/v1/tokens/${w.spareId}`)),
  'delete root': async (w) => steps(await step(w, 'DELETE', '/v1/users/root')),
  'detach root from root': async (w) => steps(await step(w, 'DELETE', '/v1/users/root/policies/root')),
  'bootstrap again': async (w) => steps(await step(w, 'POST', '/v1/bootstrap')),
  'revoke root\'s token, then bootstrap again': async (w) => steps(await step(w, 'DELETE', `/v1/tokens/${w.rootTokenId}`), await step(w, 'POST', '/v1/bootstrap')),
};
type MoveName = keyof typeof MOVES;

/**
 * The decision table: the answer to each move, per identity (`_` is every identity not named).
 * Legitimate 2xx answers, and why:
 * - saAdmin holds every rule root holds (admin = root's rules), so minting for root or others,
 *   attaching root, creating admin accounts gives it nothing new; removing the last root holder is
 *   still refused (409).
 * - tokensStar may manage every token (ttl, re-enable, revoke): that is the `tokens` right itself.
 *   Minting for another subject needs every rule that token would carry, so it is refused.
 * - policiesBindAndUsers holds `bind` and may update users: attaching any policy, root included,
 *   to itself or others is exactly what `bind` grants (listed in LEGIT_GROWTH).
 * - policiesEscalate holds `escalate` and `update` on policies: rewriting a policy it holds to `*`
 *   is exactly what `escalate` grants (LEGIT_GROWTH). Creating `star` is allowed; attaching it is not.
 * - Detaching needs only `update` on users (it cannot raise anyone), so a users updater gets as far
 *   as the last-root check (409).
 * - Attaching to oneself, also through POST /v1/tokens {policies}, needs `update` on one's own
 *   user or service account, like PUT …/policies/:policy: `bind` alone attaches nothing.
 * - A token may revoke its subject's other tokens unless it is narrowed without the `tokens` right
 *   (then they are invisible to it: 404).
 * - Anyone may mint a token for itself: it is at most as strong as the token minting it (a narrowed
 *   token's narrowing carries over); root's own narrowed token minting "for root" mints for itself.
 */
const TABLE: Record<MoveName, Partial<Record<IdentityName | '_', string>>> = {
  'mint own token': { _: '201' },
  'mint own token with the subject\'s policies': { _: '201', tokensStarNarrowed: '403', rootNarrowedReadonly: '403', narrowedToCustom: '403' },
  'mint own token with admin': { _: '403', policiesBindAndUsers: '201', saAdmin: '201' },
  'mint a token for root': { _: '403', saAdmin: '201', rootNarrowedReadonly: '201' },
  'mint a token for root narrowed to its own policies': { _: '403', saAdmin: '201' },
  'mint a token for another user': { _: '403', saAdmin: '201' },
  'attach root to itself': { _: '403', policiesBindAndUsers: '200', saAdmin: '200' },
  'create a user holding root': { _: '403', policiesBindAndUsers: '201', saAdmin: '201' },
  'create a user holding admin, then mint its token': { _: '403/403', tokensStar: '403/404', policiesBindAndUsers: '201/403', saAdmin: '201/201' },
  'attach admin to another user, then mint its token': { _: '403/403', policiesBindAndUsers: '200/403', saAdmin: '200/201' },
  'create a policy granting *, then attach it to itself': { _: '403/403', usersCreateUpdate: '403/404', policiesBindAndUsers: '403/404', policiesEscalate: '201/403', saAdmin: '201/200' },
  'widen its own policy to *': { _: '403', policiesEscalate: '200', saAdmin: '200' },
  'create an admin service account': { _: '403', saAdmin: '201' },
  'extend its own token\'s ttl': { _: '403', tokensStar: '200', saAdmin: '200' },
  're-enable a token root disabled': { _: '403', tokensStar: '200', saAdmin: '200', tokensStarNarrowed: '404', rootNarrowedReadonly: '404', narrowedToCustom: '404' },
  'revoke a sibling token': { _: '200', tokensStarNarrowed: '404', rootNarrowedReadonly: '404', narrowedToCustom: '404' },
  'delete root': { _: '403', saAdmin: '409' },
  'detach root from root': { _: '403', usersCreateUpdate: '409', policiesBindAndUsers: '409', saAdmin: '409' },
  'bootstrap again': { _: '409' },
  'revoke root\'s token, then bootstrap again': { _: '404/409', tokensStar: '200/409', saAdmin: '200/409' },
};

/** Moves after which the identity may legitimately hold more than at the start. */
const LEGIT_GROWTH: [IdentityName, MoveName][] = [
  ['policiesBindAndUsers', 'mint own token with admin'],
  ['policiesBindAndUsers', 'attach root to itself'],
  ['policiesEscalate', 'widen its own policy to *'],
];

// ---------------------------------------------------------------------------------------------
// Effective rights, probed

const ADMIN_RESOURCES = ['users', 'serviceaccounts', 'policies', 'tokens', 'registries', 'audit'];
const PROBES: { verb: string; resource: string; namespace?: string }[] = [
  ...ADMIN_RESOURCES.flatMap((resource) => ['list', 'create', 'update', 'delete'].map((verb) => ({ verb, resource }))),
  { verb: 'bind', resource: 'policies' },
  { verb: 'escalate', resource: 'policies' },
  ...['list', 'create', 'delete'].map((verb) => ({ verb, resource: 'namespaces' })),
  ...['list', 'create'].flatMap((verb) => [{ verb, resource: 'services' }, { verb, resource: 'services', namespace: 'dev' }]),
];
const keyOf = (p: { verb: string; resource: string; namespace?: string }) => `${p.verb} ${p.resource}${p.namespace ? ` in ${p.namespace}` : ''}`;

/** What `token` may do, as POST /v1/authz/check answers for the caller itself. */
async function rightsOf(runed: Runed, token: string): Promise<Set<string>> {
  const answers = await Promise.all(PROBES.map((p) => runed.request('POST', '/v1/authz/check', { token, body: p })));
  const rights = new Set<string>();
  answers.forEach((a, i) => {
    if (a.status === 401) return; // a token that no longer works holds nothing
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    if (a.body.allowed) rights.add(keyOf(PROBES[i]!));
  });
  return rights;
}

/** Real calls, each guarded by one probed right: the route must agree with the check. */
const CALLS: { right: string; method: string; path: string; body?: (n: number) => unknown }[] = [
  { right: 'list users', method: 'GET', path: '/v1/users' },
  { right: 'list policies', method: 'GET', path: '/v1/policies' },
  { right: 'list serviceaccounts', method: 'GET', path: '/v1/serviceaccounts' },
  { right: 'list registries', method: 'GET', path: '/v1/registries' },
  { right: 'list audit', method: 'GET', path: '/v1/audit' },
  { right: 'list namespaces', method: 'GET', path: '/v1/namespaces' },
  { right: 'create namespaces', method: 'POST', path: '/v1/namespaces', body: (n) => ({ name: `probe-${n}` }) },
];
let probeCounter = 0;

async function expectRoutesAgree(runed: Runed, token: string, rights: Set<string>, label: string): Promise<void> {
  for (const call of CALLS) {
    const res = await runed.request(call.method, call.path, { token, ...(call.body ? { body: call.body(probeCounter++) } : {}) });
    if (res.status === 401) continue;
    expect([200, 201].includes(res.status), `${label}: ${call.method} ${call.path} → ${res.status}, while authz/check says "${call.right}" is ${rights.has(call.right) ? 'allowed' : 'denied'}`).toBe(
      rights.has(call.right),
    );
  }
}

const extra = (now: Set<string>, before: Set<string>) => [...now].filter((r) => !before.has(r));

/** The rules a token's rights are computed from (its subject's and its narrowing's), as whoami reports them. */
async function holdingsOf(runed: Runed, token: string): Promise<string> {
  const me = await runed.request('GET', '/v1/whoami', { token });
  return me.status === 200 ? JSON.stringify({ rules: me.body.rules, tokenRules: me.body.tokenRules ?? null }) : `status ${me.status}`;
}

// ---------------------------------------------------------------------------------------------
// Setting up a world

async function ok(res: Promise<{ status: number; body: any }>, ...expected: number[]): Promise<any> {
  const r = await res;
  if (!expected.includes(r.status)) throw new Error(`setup step failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function setUp(runed: Runed, name: IdentityName): Promise<World> {
  const spec = IDENTITIES[name];
  const root = await runed.bootstrap();
  const as = (method: string, path: string, body?: unknown) => runed.request(method, path, { token: root, ...(body !== undefined ? { body } : {}) });
  const rootTokenId = (await ok(as('GET', '/v1/whoami'), 200)).token.id as string;
  for (const [policy, rules] of Object.entries(CUSTOM_POLICIES)) await ok(as('POST', '/v1/policies', { name: policy, rules }), 201);
  await ok(as('POST', '/v1/namespaces', { name: 'dev' }), 201);
  await runed.userWithToken(root, 'bob', ['readonly']);

  let subject: string;
  let token: string;
  const narrowing = spec.narrowing ? { policies: spec.narrowing } : {};
  if (spec.kind === 'root') {
    subject = 'root';
    token = (await ok(as('POST', '/v1/tokens', { name: 'narrowed', ttl: '1h', ...narrowing }), 201)).secret;
  } else if (spec.kind === 'sa') {
    subject = `sa-${name.toLowerCase()}`;
    const created = await ok(as('POST', '/v1/serviceaccounts', { name: subject, ttl: '1h', ...spec.sa }), 201);
    token = created.secret;
  } else {
    subject = name.toLowerCase();
    await ok(as('POST', '/v1/users', { name: subject, policies: spec.policies }), 201);
    token = (await ok(as('POST', '/v1/tokens', { name: 'main', subjectName: subject, ttl: '1h', ...narrowing }), 201)).secret;
  }
  const spare = await ok(as('POST', '/v1/tokens', { name: 'spare', subjectName: subject, ttl: '1h' }), 201);
  await ok(as('PATCH', `/v1/tokens/${spare.token.id}`, { enabled: false }), 200);
  const me = await ok(runed.request('GET', '/v1/whoami', { token }), 200);
  return {
    runed,
    root,
    rootTokenId,
    name: subject,
    kind: spec.kind,
    token,
    tokenId: me.token.id,
    spareId: spare.token.id,
    subjectPolicies: me.policies as string[],
  };
}

/** Undoes, as root, what `move` may have changed, so each move starts from the same state. */
async function restore(w: World, move: MoveName): Promise<void> {
  const as = (method: string, path: string, body?: unknown) => w.runed.request(method, path, { token: w.root, ...(body !== undefined ? { body } : {}) });
  if (move === 'widen its own policy to *') {
    const policy = ownCustomPolicy(w);
    await ok(as('PUT', `/v1/policies/${policy}`, { name: policy, rules: CUSTOM_POLICIES[policy] }), 200);
  }
  const held = (await ok(as('GET', w.kind === 'sa' ? `/v1/serviceaccounts/${w.name}` : `/v1/users/${w.name}`), 200)).policies as string[];
  if (held.some((p) => !w.subjectPolicies.includes(p))) {
    if (w.kind === 'sa') {
      for (const p of held) if (!w.subjectPolicies.includes(p)) await ok(as('DELETE', `/v1/serviceaccounts/${w.name}/policies/${p}`), 200);
    } else {
      await ok(as('POST', '/v1/users', { name: w.name, policies: w.subjectPolicies }), 200);
    }
  }
  const created: Partial<Record<MoveName, string>> = {
    'create a user holding root': '/v1/users/evil',
    'create a user holding admin, then mint its token': '/v1/users/evil2',
    'create an admin service account': '/v1/serviceaccounts/evil-sa',
    'create a policy granting *, then attach it to itself': '/v1/policies/star',
  };
  if (created[move]) await ok(as('DELETE', created[move]!), 200, 404);
  if (move === 'attach admin to another user, then mint its token') await ok(as('DELETE', '/v1/users/bob/policies/admin'), 200, 404);
  if (move === 're-enable a token root disabled') await ok(as('PATCH', `/v1/tokens/${w.spareId}`, { enabled: false }), 200);
}

// ---------------------------------------------------------------------------------------------

describe('escalation matrix: no sequence of API calls raises anyone\'s rights', () => {
  const daemons: Runed[] = [];
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.cleanup()));
  });

  it('has an answer for every identity and move', () => {
    for (const move of Object.keys(MOVES)) expect(TABLE[move], move).toBeDefined();
    expect(Object.keys(TABLE).sort()).toEqual(Object.keys(MOVES).sort());
  });

  // One daemon per identity, a few at a time: most of the wall time is round trips.
  it.concurrent.for(Object.keys(IDENTITIES) as IdentityName[])('%s', { timeout: 90_000 }, async (identity, { expect }) => {
    const runed = await Runed.start();
    daemons.push(runed);
    const w = await setUp(runed, identity);
    const start = await rightsOf(runed, w.token);
    const startHoldings = await holdingsOf(runed, w.token);
    await expectRoutesAgree(runed, w.token, start, `${identity} at the start`);

    const answers: Record<string, string> = {};
    const expected: Record<string, string> = {};
    const grew: string[] = [];
    for (const [move, run] of Object.entries(MOVES)) {
      const outcome = await run(w);
      answers[move] = outcome.status;
      expected[move] = TABLE[move]![identity] ?? TABLE[move]!._!;

      // Depth 2: the identity's own token and every token the move gave it, probed again.
      const legit = LEGIT_GROWTH.some(([i, m]) => i === identity && m === move);
      for (const [label, token] of [['its token', w.token], ...outcome.tokens.map((t, i) => [`token ${i + 1} obtained`, t])] as [string, string][]) {
        // Rights are a function of the rules whoami reports: unchanged rules need no new probe.
        if (token === w.token && (await holdingsOf(runed, token)) === startHoldings) continue;
        const now = await rightsOf(runed, token);
        const more = extra(now, start);
        if (more.length > 0 && !legit) grew.push(`${move} → ${label} gained: ${more.join(', ')}`);
        if (token !== w.token) await expectRoutesAgree(runed, token, now, `${identity} after "${move}" (${label})`);
      }
      if (move !== 'revoke root\'s token, then bootstrap again') {
        const rootUser = await runed.request('GET', '/v1/users/root', { token: w.root });
        expect(rootUser.body.policies, `root still holds root after "${move}"`).toContain('root');
        await restore(w, move);
      }
    }
    expect.soft(answers).toEqual(expected);
    expect.soft(grew).toEqual([]);
  });
});
