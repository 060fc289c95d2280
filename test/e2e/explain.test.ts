import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Runed } from '../helpers/runed.js';

describe('POST /v1/authz/check: explain and what-if', () => {
  let runed: Runed;
  let root: string;
  let alice: string;

  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'alice-dev', rules: [{ resource: '*', verbs: ['get', 'list', 'create'], namespace: 'dev' }] } });
    alice = await runed.userWithToken(root, 'alice', ['alice-dev']);
  });
  afterAll(async () => runed.cleanup());

  const check = async (token: string, body: Record<string, unknown>) => {
    const res = await runed.request('POST', '/v1/authz/check', { token, body });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('allowed: names the deciding policy and rule', async () => {
    const r = await check(alice, { verb: 'list', resource: 'services', namespace: 'dev' });
    expect(r).toMatchObject({ allowed: true, decidedBy: { policy: 'alice-dev', index: 0, rule: { namespace: 'dev' } }, subject: { name: 'alice', type: 'user' } });
    expect(r.reason).toBe('allowed by alice-dev rule 1 ([get, list, create] on * in dev)');
  });

  it.each([
    [{ verb: 'list', resource: 'services', namespace: 'dev-prod' }, 'the rule is pinned to namespace "dev", not "dev-prod"'],
    [{ verb: 'delete', resource: 'services', namespace: 'dev' }, 'verb "delete" is not among [get, list, create]'],
    [{ verb: 'list', resource: 'users' }, '"*" with listed verbs does not cover the admin resource "users"'],
  ])('denied %j: the closest miss says what differs', async (body, differs) => {
    const r = await check(alice, body);
    expect(r.allowed).toBe(false);
    expect(r.closest).toMatchObject({ policy: 'alice-dev', index: 0 });
    expect(r.closest.differs.join('; ')).toContain(differs);
    expect(r.reason).toContain(differs);
  });

  it('an admin asks about a named subject', async () => {
    const r = await check(root, { subject: 'alice', verb: 'create', resource: 'services', namespace: 'dev' });
    expect(r).toMatchObject({ allowed: true, subject: { name: 'alice' } });
  });

  it('a non-admin cannot ask about someone else', async () => {
    const res = await runed.request('POST', '/v1/authz/check', { token: alice, body: { subject: 'root', verb: 'get', resource: 'users' } });
    expect(res.status).toBe(403);
  });

  it('about a token: the narrowing is taken into account and blamed', async () => {
    const t = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'ro', policies: ['readonly'] } });
    const r = await check(root, { token: t.body.token.id, verb: 'delete', resource: 'services', namespace: 'x' });
    expect(r.allowed).toBe(false);
    expect(r.tokenPolicies).toEqual(['readonly']);
    expect(r.reason).toMatch(/^denied: root rule 1 .* allows delete services in namespace x, but the token is limited to readonly, which do not/);
  });

  it('what-if: a draft policy answers as if it were attached, without saving it', async () => {
    const draft = 'name: alice-prod\nrules:\n  - resource: services\n    verbs: [get, delete]\n    namespace: prod\n';
    const r = await check(root, { subject: 'alice', verb: 'delete', resource: 'services', namespace: 'prod', policy: draft });
    expect(r).toMatchObject({ allowed: true, decidedBy: { policy: 'alice-prod (draft)' }, draft: 'alice-prod (draft)' });
    expect((await runed.request('GET', '/v1/policies/alice-prod', { token: root })).status).toBe(404);
    expect((await check(root, { subject: 'alice', verb: 'delete', resource: 'services', namespace: 'prod' })).allowed).toBe(false);
  });

  it('refuses bad input', async () => {
    for (const [body, message] of [
      [{ resource: 'services' }, 'verb is required'],
      [{ verb: 'get' }, 'resource is required'],
      [{ verb: 'get', resource: 'x', policy: 'name: [' }, 'draft policy is invalid: line'],
      [{ verb: 'get', resource: 'x', subject: 'ghost' }, 'subject "ghost" not found'],
      [{ verb: 'get', resource: 'x', as: 'root' }, 'unknown field "as"'],
    ] as const) {
      const res = await runed.request('POST', '/v1/authz/check', { token: root, body });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.body.error.message).toContain(message);
    }
  });
});
