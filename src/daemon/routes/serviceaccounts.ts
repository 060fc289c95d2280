import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { alreadyExists, invalid, notFound } from '../../core/errors.js';
import { requireDnsLabel } from '../../core/names.js';
import { isPermission, PERMISSION_NAMES, serviceAccountPolicies, type Permission } from '../../core/serviceAccounts.js';
import { newId } from '../../core/tokenFormat.js';
import type { Policy } from '../../core/wire.js';
import { CreatedServiceAccount, Errors, List, PageQuery, SubjectListQuery, Params, ServiceAccount, ServiceAccountBody, Token } from '../../core/schemas.js';
import { commit, guardGrant, keepingRoot, requireAdmin, type App, type Ctx, principalOf } from '../context.js';
import { issueToken, resolveTtl } from '../issue.js';
import { readPage, readSearch, readSort } from '../paging.js';
import { SUBJECT_SORTS } from '../store/subjects.js';
import type { SubjectRow } from '../store/subjects.js';
import { toToken } from '../store/tokens.js';
import { checkAttach, detachPolicy } from './users.js';

const tags = ['serviceaccounts'];

export async function findServiceAccount(ctx: Ctx, name: string): Promise<SubjectRow> {
  const row = await ctx.store.subjects.getByName(name);
  if (!row || row.type !== 'service') throw notFound(`service account "${name}" not found`);
  return row;
}

/** Service accounts (§4a): the account, its policies and its first token in one transaction. */
export function serviceAccountRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;
  const admin = (req: FastifyRequest, verb: string, ref?: string) => requireAdmin(ctx, req, { verb, resource: 'serviceaccounts' }, ref);

  app.get('/v1/serviceaccounts', { schema: { tags, summary: 'List service accounts', querystring: SubjectListQuery('the name, namespace, description or id'), response: { 200: List(ServiceAccount), ...Errors } } }, async (req) => {
    admin(req, 'list');
    const query = req.query;
    // ?search= (name, namespace, description, id) and ?sort= (name, created, "-" for descending).
    return store.subjects.listServiceAccounts(readPage(query, 3), { search: readSearch(query), sort: readSort(query, SUBJECT_SORTS, 'name') });
  });

  const detail = Type.Object({ ...ServiceAccount.properties, tokens: Type.Array(Token) });
  app.get('/v1/serviceaccounts/:name', { schema: { tags, summary: 'Get a service account with its tokens', params: Params.name, response: { 200: detail, ...Errors } } }, async (req) => {
    admin(req, 'get', req.params.name);
    const row = await findServiceAccount(ctx, req.params.name);
    const tokens = await store.tokens.list({ subjectId: row.id }, { limit: 1000 }, Date.now());
    return { ...(await store.subjects.toServiceAccount(row)), tokens: tokens.items };
  });

  const create = { tags, summary: 'Create a service account, its policies and its first token in one step; the secret is in this answer only', body: ServiceAccountBody, response: { 201: CreatedServiceAccount, ...Errors } };
  app.post('/v1/serviceaccounts', { schema: create, config: { immutable: ['id', 'policies', 'createdAt', 'updatedAt'] } }, async (req, reply) => {
    const body = req.body;
    const name = requireDnsLabel(body.name, 'name');
    admin(req, 'create', name);
    const namespace = body.namespace === undefined || body.namespace === null ? undefined : requireDnsLabel(body.namespace, 'namespace');
    const permissions = [...new Set(body.permissions ?? ['cast'])];
    if (permissions.length === 0) throw invalid(`permissions must name one or more of ${PERMISSION_NAMES.join(', ')}`, { field: 'permissions' });
    const unknown = permissions.filter((p) => !isPermission(p));
    if (unknown.length > 0) {
      throw invalid(`unknown permission ${unknown.map((u) => `"${u}"`).join(', ')}: use one or more of ${PERMISSION_NAMES.join(', ')}`, { field: 'permissions' });
    }
    const ttlMs = resolveTtl(ctx.config, body.ttl);
    const description = body.description ?? '';
    const tokenName = body.tokenName ?? name;

    const existing = await store.subjects.getByName(name);
    if (existing) throw alreadyExists(`the name "${name}" is taken by a ${existing.type === 'user' ? 'user' : 'service account'}`);
    const plan = serviceAccountPolicies(name, permissions as Permission[], namespace);
    // Its policies are named <name>-<permission>, and a policy name is a DNS label too.
    const longest = [...plan.create].sort((a, b) => b.name.length - a.name.length)[0];
    if (longest && longest.name.length > 63) {
      const most = 63 - (longest.name.length - name.length);
      throw invalid(`name "${name}" is too long for a service account pinned to a namespace: its policy would be named "${longest.name}", longer than 63 characters: use a name of at most ${most} characters`, { field: 'name' });
    }
    for (const p of plan.create) {
      if (await store.policies.exists(p.name)) throw alreadyExists(`policy "${p.name}" already exists: pick another service account name or delete that policy`);
    }
    const granted = [...plan.create.flatMap((p) => p.rules), ...(await store.policies.rulesOf(plan.attach)).flatMap((p) => p.rules)];
    guardGrant(ctx, req, granted, 'bind', `create service account ${name} with ${permissions.join(', ')}`);

    const now = Date.now();
    const event = { action: 'create', resource: 'serviceaccounts', ref: name, ...(namespace ? { namespace } : {}), outcome: 'success' as const, message: `permissions ${permissions.join(', ')}` };
    const result = await commit(ctx, req, event, async (tx) => {
      if (await tx.subjects.getByName(name)) throw alreadyExists(`the name "${name}" is taken`);
      const row: SubjectRow = {
        id: newId('svc'),
        name,
        type: 'service',
        email: null,
        namespace: namespace ?? null,
        permissions: JSON.stringify(permissions),
        description,
        derived_policies: JSON.stringify(plan.create.map((p) => p.name)),
        created_at: now,
        updated_at: now,
      };
      await tx.subjects.insert(row);
      for (const p of plan.create) await tx.policies.insert(p, now);
      for (const p of plan.attach) await tx.subjects.attach(row.id, p);
      const issued = await issueToken(tx, ctx.serverKey, { subject: row, name: tokenName, policies: [], ttlMs, description, kind: 'derived', now, createdBy: principalOf(req).token.id });
      return { row, issued };
    });
    const warnings: string[] = [];
    if (namespace !== undefined && !(await store.namespaces.get(namespace))) {
      warnings.push(`namespace "${namespace}" does not exist yet: the account's rights apply once it is created`);
    }
    const policies = (await Promise.all(plan.create.map((p) => store.policies.get(p.name)))).filter((p): p is Policy => p !== undefined);
    return reply.code(201).send({
      serviceAccount: await store.subjects.toServiceAccount(result.row),
      ...(policies.length > 0 ? { policy: policies[0], policies } : {}),
      token: toToken(result.issued.row, now),
      secret: result.issued.bearer,
      ...(warnings.length > 0 ? { warnings } : {}),
    });
  });

  const deleted = Type.Object({ serviceAccount: ServiceAccount, revokedTokens: Type.Integer(), removedPolicies: Type.Array(Type.String()), removedTrusts: Type.Optional(Type.Array(Type.String())) });
  app.delete('/v1/serviceaccounts/:name', { schema: { tags, summary: 'Delete a service account, revoking its tokens and removing its derived policies', params: Params.name, response: { 200: deleted, ...Errors } } }, async (req) => {
    admin(req, 'delete', req.params.name);
    const row = await findServiceAccount(ctx, req.params.name);
    const view = await store.subjects.toServiceAccount(row);
    const derived = JSON.parse(row.derived_policies) as string[];
    const event = (r: { revokedTokens: number; removedTrusts: string[] }) => ({
      action: 'delete',
      resource: 'serviceaccounts',
      ref: row.name,
      outcome: 'success' as const,
      message: `revoked ${r.revokedTokens} token(s)${r.removedTrusts.length ? `, removed trust(s) ${r.removedTrusts.join(', ')}` : ''}`,
    });
    const result = await commit(ctx, req, event, (tx) =>
      keepingRoot(tx, async () => {
        const revokedTokens = await tx.tokens.revokeAllOf(row.id, Date.now());
        const removedTrusts = await tx.trusts.deleteAllOf(row.id);
        await tx.subjects.delete(row.id);
        const removedPolicies: string[] = [];
        for (const p of derived) if (await tx.policies.exists(p)) removedPolicies.push(p);
        for (const p of removedPolicies) await tx.policies.delete(p);
        return { revokedTokens, removedPolicies, removedTrusts };
      }),
    );
    return { serviceAccount: view, ...result };
  });

  const attach = { tags, params: Params.namePolicy, response: { 200: ServiceAccount, ...Errors } };
  app.put('/v1/serviceaccounts/:name/policies/:policy', { schema: { ...attach, summary: 'Attach a policy to a service account' } }, async (req) => {
    admin(req, 'update', req.params.name);
    const row = await findServiceAccount(ctx, req.params.name);
    if (!(await store.policies.exists(req.params.policy))) throw notFound(`policy "${req.params.policy}" not found`);
    await checkAttach(ctx, req, [req.params.policy], `service account ${row.name}`);
    await commit(ctx, req, { action: 'attach', resource: 'serviceaccounts', ref: `${row.name}/${req.params.policy}`, outcome: 'success' }, async (tx) => {
      if (await tx.subjects.attach(row.id, req.params.policy)) await tx.subjects.touch(row.id, Date.now());
    });
    return store.subjects.toServiceAccount((await store.subjects.getById(row.id))!);
  });

  app.delete('/v1/serviceaccounts/:name/policies/:policy', { schema: { ...attach, summary: 'Detach a policy from a service account' } }, async (req) => {
    admin(req, 'update', req.params.name);
    const row = await findServiceAccount(ctx, req.params.name);
    await detachPolicy(ctx, req, row, req.params.policy);
    return store.subjects.toServiceAccount((await store.subjects.getById(row.id))!);
  });
}
