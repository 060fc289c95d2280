import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { alreadyExists, conflict, invalid, notFound } from '../../core/errors.js';
import { requireDnsLabel } from '../../core/names.js';
import { Errors, List, PageQuery, SubjectListQuery, Params, User, UserBody } from '../../core/schemas.js';
import { newId } from '../../core/tokenFormat.js';
import { can, commit, guardGrant, keepingRoot, principalOf, requireAdmin, type App, type Ctx } from '../context.js';
import { readPage, readSearch, readSort } from '../paging.js';
import { SUBJECT_SORTS } from '../store/subjects.js';
import type { SubjectRow } from '../store/subjects.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const tags = ['users'];

export async function findUser(ctx: Ctx, name: string): Promise<SubjectRow> {
  const row = await ctx.store.subjects.getByName(name);
  if (!row || row.type !== 'user') throw notFound(`user "${name}" not found`);
  return row;
}

/** The named policies must exist; attaching them passes the escalation guard (bind). */
export async function checkAttach(ctx: Ctx, req: FastifyRequest, names: string[], to: string): Promise<void> {
  const found = await ctx.store.policies.rulesOf(names);
  const missing = names.filter((n) => !found.some((f) => f.name === n));
  if (missing.length > 0) throw invalid(`policy ${missing.map((m) => `"${m}"`).join(', ')} does not exist`, { field: 'policies', missing });
  guardGrant(ctx, req, found.flatMap((f) => f.rules), 'bind', `attach ${names.join(', ')} to ${to}`);
}

export function userRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;
  const admin = (req: FastifyRequest, verb: string, ref?: string) => requireAdmin(ctx, req, { verb, resource: 'users' }, ref);

  app.get('/v1/users', { schema: { tags, summary: 'List users by name', querystring: SubjectListQuery('the name, email, description or id'), response: { 200: List(User), ...Errors } } }, async (req) => {
    admin(req, 'list');
    const query = req.query;
    // ?search= (name, email, description, id) and ?sort= (name, created, "-" for descending).
    return store.subjects.listUsers(readPage(query, 3), { search: readSearch(query), sort: readSort(query, SUBJECT_SORTS, 'name') });
  });

  app.get('/v1/users/:name', { schema: { tags, summary: 'Get a user', params: Params.name, response: { 200: User, ...Errors } } }, async (req) => {
    admin(req, 'get', req.params.name);
    return store.subjects.toUser(await findUser(ctx, req.params.name));
  });

  // Create or update (201 / 200). `policies`, when given, is the complete list to hold.
  const upsert = { tags, summary: 'Create (201) or update (200) a user; policies, when given, is the complete list', body: UserBody, response: { 200: User, 201: User, ...Errors } };
  app.post('/v1/users', { schema: upsert, config: { immutable: ['id', 'createdAt', 'updatedAt'] } }, async (req, reply) => {
    const body = req.body;
    const name = requireDnsLabel(body.name, 'name');
    // The right comes before any answer that depends on what exists.
    const mayOnlyUpdate = !can(req, { verb: 'create', resource: 'users' }) && can(req, { verb: 'update', resource: 'users' });
    admin(req, mayOnlyUpdate ? 'update' : 'create', name);
    const email = body.email ?? undefined;
    if (email !== undefined && email !== '' && !EMAIL.test(email)) throw invalid(`email "${email}" is not an email address`, { field: 'email' });
    const policies = body.policies ? [...new Set(body.policies)] : undefined;

    const existing = await store.subjects.getByName(name);
    if (existing && existing.type !== 'user') throw alreadyExists(`the name "${name}" is taken by a service account`);
    if (existing && !mayOnlyUpdate) admin(req, 'update', name);
    if (!existing && mayOnlyUpdate) admin(req, 'create', name);
    const held = existing ? await store.subjects.policyNames(existing.id) : [];
    if (policies) await checkAttach(ctx, req, policies.filter((p) => !held.includes(p)), `user ${name}`);

    const now = Date.now();
    const row = await commit(ctx, req, { action: existing ? 'update' : 'create', resource: 'users', ref: name, outcome: 'success' }, (tx) =>
      keepingRoot(tx, async () => {
        let row = await tx.subjects.getByName(name);
        if (row && row.type !== 'user') throw alreadyExists(`the name "${name}" is taken by a service account`);
        if (!row) {
          row = { id: newId('usr'), name, type: 'user', email: email || null, namespace: null, permissions: null, description: '', derived_policies: '[]', created_at: now, updated_at: now };
          await tx.subjects.insert(row);
        } else if (email !== undefined) {
          await tx.subjects.updateEmail(row.id, email || null, now);
        }
        if (policies) {
          for (const p of await tx.subjects.policyNames(row.id)) if (!policies.includes(p)) await tx.subjects.detach(row.id, p);
          for (const p of policies) await tx.subjects.attach(row.id, p);
          await tx.subjects.touch(row.id, now);
        }
        return (await tx.subjects.getById(row.id))!;
      }),
    );
    return reply.code(existing ? 200 : 201).send(await store.subjects.toUser(row));
  });

  const deleted = Type.Object({ user: User, revokedTokens: Type.Integer() });
  app.delete('/v1/users/:name', { schema: { tags, summary: 'Delete a user, revoking its tokens', params: Params.name, response: { 200: deleted, ...Errors } } }, async (req) => {
    admin(req, 'delete', req.params.name);
    const user = await findUser(ctx, req.params.name);
    if (user.id === principalOf(req).subject.id) {
      throw conflict('you cannot delete the user you are authenticated as');
    }
    const view = await store.subjects.toUser(user);
    const revoked = await commit(ctx, req, (n: number) => ({ action: 'delete', resource: 'users', ref: user.name, outcome: 'success', message: `revoked ${n} token(s)` }), (tx) =>
      keepingRoot(tx, async () => {
        const n = await tx.tokens.revokeAllOf(user.id, Date.now());
        await tx.subjects.delete(user.id);
        return n;
      }),
    );
    return { user: view, revokedTokens: revoked };
  });

  const attach = { tags, params: Params.namePolicy, response: { 200: User, ...Errors } };
  app.put('/v1/users/:name/policies/:policy', { schema: { ...attach, summary: 'Attach a policy to a user' } }, async (req) => {
    admin(req, 'update', req.params.name);
    const user = await findUser(ctx, req.params.name);
    if (!(await store.policies.exists(req.params.policy))) throw notFound(`policy "${req.params.policy}" not found`);
    await checkAttach(ctx, req, [req.params.policy], `user ${user.name}`);
    await commit(ctx, req, { action: 'attach', resource: 'users', ref: `${user.name}/${req.params.policy}`, outcome: 'success' }, async (tx) => {
      if (await tx.subjects.attach(user.id, req.params.policy)) await tx.subjects.touch(user.id, Date.now());
    });
    return store.subjects.toUser((await store.subjects.getById(user.id))!);
  });

  app.delete('/v1/users/:name/policies/:policy', { schema: { ...attach, summary: 'Detach a policy from a user' } }, async (req) => {
    admin(req, 'update', req.params.name);
    const user = await findUser(ctx, req.params.name);
    await detachPolicy(ctx, req, user, req.params.policy);
    return store.subjects.toUser((await store.subjects.getById(user.id))!);
  });
}

/** Detaches a policy from a user or service account, keeping root held by someone. */
export async function detachPolicy(ctx: Ctx, req: FastifyRequest, subject: SubjectRow, policy: string): Promise<void> {
  const { store } = ctx;
  const resource = subject.type === 'user' ? 'users' : 'serviceaccounts';
  if (!(await store.subjects.policyNames(subject.id)).includes(policy)) {
    throw notFound(`policy "${policy}" is not attached to ${subject.type === 'user' ? 'user' : 'service account'} "${subject.name}"`);
  }
  await commit(ctx, req, { action: 'detach', resource, ref: `${subject.name}/${policy}`, outcome: 'success' }, (tx) =>
    keepingRoot(tx, async () => {
      if (await tx.subjects.detach(subject.id, policy)) await tx.subjects.touch(subject.id, Date.now());
    }),
  );
}
