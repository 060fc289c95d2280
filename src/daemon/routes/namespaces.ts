import type { FastifyInstance } from 'fastify';
import { alreadyExists, conflict, notFound } from '../../core/errors.js';
import { SEEDED_NAMESPACES } from '../../core/builtins.js';
import { requireDnsLabel } from '../../core/names.js';
import { checkFields, objectBody } from '../body.js';
import { authorize, commit, requireAdmin, type Ctx } from '../context.js';
import { readPage } from '../paging.js';

type NameParams = { name: string };
const SEEDED: readonly string[] = SEEDED_NAMESPACES;

export function namespaceRoutes(app: FastifyInstance, ctx: Ctx): void {
  const { store } = ctx;

  app.get('/v1/namespaces', async (req) => {
    authorize(ctx, req, { verb: 'list', resource: 'namespaces' });
    return store.namespaces.list(readPage(req.query as Record<string, unknown>, 1));
  });

  app.get<{ Params: NameParams }>('/v1/namespaces/:name', async (req) => {
    authorize(ctx, req, { verb: 'get', resource: 'namespaces' }, req.params.name);
    const ns = store.namespaces.get(req.params.name);
    if (!ns) throw notFound(`namespace "${req.params.name}" not found`);
    return ns;
  });

  app.post('/v1/namespaces', async (req, reply) => {
    const body = objectBody(req.body);
    checkFields(body, ['name'], ['createdAt']);
    const name = requireDnsLabel(body.name, 'name');
    authorize(ctx, req, { verb: 'create', resource: 'namespaces' }, name);
    commit(ctx, req, { action: 'create', resource: 'namespaces', ref: name, outcome: 'success' }, () => {
      if (!store.namespaces.insert(name, Date.now())) throw alreadyExists(`namespace "${name}" already exists`);
    });
    return reply.code(201).send(store.namespaces.get(name));
  });

  app.delete<{ Params: NameParams }>('/v1/namespaces/:name', async (req) => {
    const name = req.params.name;
    const access = { verb: 'delete', resource: 'namespaces' };
    requireAdmin(ctx, req, access, name);
    if (SEEDED.includes(name)) throw conflict(`namespace "${name}" is built in and cannot be deleted`);
    const ns = store.namespaces.get(name);
    if (!ns) throw notFound(`namespace "${name}" not found`);
    commit(ctx, req, { action: 'delete', resource: 'namespaces', ref: name, outcome: 'success' }, () => {
      if (!store.namespaces.delete(name)) throw notFound(`namespace "${name}" not found`);
    });
    return ns;
  });
}
