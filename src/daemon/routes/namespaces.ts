import { Type } from 'typebox';
import { alreadyExists, conflict, notFound } from '../../core/errors.js';
import { SEEDED_NAMESPACES } from '../../core/builtins.js';
import { requireDnsLabel } from '../../core/names.js';
import { Errors, List, Namespace, NamespaceBody, PageQuery, Params } from '../../core/schemas.js';
import { authorize, commit, requireAdmin, type App, type Ctx } from '../context.js';
import { readPage } from '../paging.js';

const SEEDED: readonly string[] = SEEDED_NAMESPACES;
const tags = ['namespaces'];

export function namespaceRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;
  const one = { tags, params: Params.name, response: { 200: Namespace, ...Errors } };

  app.get('/v1/namespaces', { schema: { tags, summary: 'List namespaces', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: List(Namespace), ...Errors } } }, async (req) => {
    authorize(ctx, req, { verb: 'list', resource: 'namespaces' });
    return store.namespaces.list(readPage(req.query, 1));
  });

  app.get('/v1/namespaces/:name', { schema: { ...one, summary: 'Get a namespace' } }, async (req) => {
    authorize(ctx, req, { verb: 'get', resource: 'namespaces' }, req.params.name);
    const ns = await store.namespaces.get(req.params.name);
    if (!ns) throw notFound(`namespace "${req.params.name}" not found`);
    return ns;
  });

  const create = { tags, summary: 'Create a namespace', body: NamespaceBody, response: { 201: Namespace, ...Errors } };
  app.post('/v1/namespaces', { schema: create, config: { immutable: ['createdAt'] } }, async (req, reply) => {
    const name = requireDnsLabel(req.body.name, 'name');
    authorize(ctx, req, { verb: 'create', resource: 'namespaces' }, name);
    await commit(ctx, req, { action: 'create', resource: 'namespaces', ref: name, outcome: 'success' }, async (tx) => {
      if (!(await tx.namespaces.insert(name, Date.now()))) throw alreadyExists(`namespace "${name}" already exists`);
    });
    return reply.code(201).send((await store.namespaces.get(name))!);
  });

  app.delete('/v1/namespaces/:name', { schema: { ...one, summary: 'Delete a namespace (admin)' } }, async (req) => {
    const name = req.params.name;
    const access = { verb: 'delete', resource: 'namespaces' };
    requireAdmin(ctx, req, access, name);
    if (SEEDED.includes(name)) throw conflict(`namespace "${name}" is built in and cannot be deleted`);
    const ns = await store.namespaces.get(name);
    if (!ns) throw notFound(`namespace "${name}" not found`);
    await commit(ctx, req, { action: 'delete', resource: 'namespaces', ref: name, outcome: 'success' }, async (tx) => {
      if (!(await tx.namespaces.delete(name))) throw notFound(`namespace "${name}" not found`);
    });
    return ns;
  });
}
