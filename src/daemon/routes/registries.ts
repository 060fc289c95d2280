import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import { alreadyExists, invalid, notFound } from '../../core/errors.js';
import { requireDnsLabel } from '../../core/names.js';
import { Errors, List, PageQuery, Params, Registry, RegistryBody } from '../../core/schemas.js';
import { commit, requireAdmin, type App, type Ctx } from '../context.js';
import { seal } from '../kek.js';
import { readPage } from '../paging.js';
import { toRegistry, type RegistryRow, type RegistryType } from '../store/registries.js';

const tags = ['registries'];
const SERVER = /^[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._/-]*)?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** Checks a registry body; `existing` lets a replace keep the stored password when none is sent. */
async function registryFromBody(ctx: Ctx, body: Partial<Static<typeof RegistryBody>>, name: string, existing: RegistryRow | undefined, now: number): Promise<RegistryRow> {
  const server = body.server ?? undefined;
  if (!server) throw invalid('server is required, e.g. ghcr.io or 123456789012.dkr.ecr.eu-west-1.amazonaws.com', { field: 'server' });
  if (!SERVER.test(server)) throw invalid(`server "${server}" must be a registry host, optionally with :port and /path, without a scheme`, { field: 'server' });
  const type: RegistryType = body.type ?? 'docker';
  const username = body.username ?? undefined;
  const password = body.password ?? undefined;
  const region = body.region ?? undefined;

  const row: RegistryRow = { name, server, type, username: null, region: null, sealed: null, wrapped_key: null, kek_id: null, created_at: existing?.created_at ?? now, updated_at: now };
  if (type === 'ecr') {
    if (!region || !REGION.test(region)) throw invalid('region is required for an ecr registry, e.g. eu-west-1', { field: 'region' });
    if (username !== undefined || password !== undefined) {
      throw invalid('an ecr registry takes no username or password: credentials come from the host\'s AWS environment when images are pulled', { field: password !== undefined ? 'password' : 'username' });
    }
    row.region = region;
    return row;
  }
  if (region !== undefined) throw invalid('region applies to ecr registries only', { field: 'region' });
  if (!username) throw invalid('username is required for a docker registry', { field: 'username' });
  row.username = username;
  if (password !== undefined) {
    if (password === '') throw invalid('password must not be empty', { field: 'password' });
    const s = seal(await ctx.keyring.get(), name, password);
    Object.assign(row, { sealed: s.sealed, wrapped_key: s.wrappedKey, kek_id: s.kekId });
  } else if (existing?.type === 'docker' && existing.sealed !== null) {
    Object.assign(row, { sealed: existing.sealed, wrapped_key: existing.wrapped_key, kek_id: existing.kek_id });
  } else {
    throw invalid('password is required for a docker registry (send it in the body; it is stored encrypted and never returned)', { field: 'password' });
  }
  return row;
}

export function registryRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;
  const admin = (req: FastifyRequest, verb: string, ref?: string) => requireAdmin(ctx, req, { verb, resource: 'registries' }, ref);
  const find = async (name: string) => {
    const row = await store.registries.get(name);
    if (!row) throw notFound(`registry "${name}" not found`);
    return row;
  };

  const one = { tags, params: Params.name, response: { 200: Registry, ...Errors } };
  const immutable = { immutable: ['createdAt', 'updatedAt', 'hasPassword'] };

  app.get('/v1/registries', { schema: { tags, summary: 'List registries (passwords are never returned)', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: List(Registry), ...Errors } } }, async (req) => {
    admin(req, 'list');
    return store.registries.list(readPage(req.query, 1));
  });

  app.get('/v1/registries/:name', { schema: { ...one, summary: 'Get a registry' } }, async (req) => {
    admin(req, 'get', req.params.name);
    return toRegistry(await find(req.params.name));
  });

  const create = { tags, summary: 'Add a registry; the password is stored encrypted and never returned', body: RegistryBody, response: { 201: Registry, ...Errors } };
  app.post('/v1/registries', { schema: create, config: immutable }, async (req, reply) => {
    admin(req, 'create');
    const body = req.body;
    const name = requireDnsLabel(body.name, 'name');
    if (await store.registries.get(name)) throw alreadyExists(`registry "${name}" already exists: use PUT /v1/registries/${name} to replace it`);
    const row = await registryFromBody(ctx, body, name, undefined, Date.now());
    await commit(ctx, req, { action: 'create', resource: 'registries', ref: name, outcome: 'success' }, async (tx) => {
      if (await tx.registries.get(name)) throw alreadyExists(`registry "${name}" already exists`);
      await tx.registries.upsert(row);
    });
    return reply.code(201).send(toRegistry(row));
  });

  const replace = { ...one, summary: 'Replace a registry; without a password the stored one is kept', body: Type.Partial(RegistryBody, { additionalProperties: false }) };
  app.put('/v1/registries/:name', { schema: replace, config: immutable }, async (req) => {
    const name = req.params.name;
    admin(req, 'update', name);
    const body = req.body;
    // The same check as a create, so both name the same problem the same way.
    if (body.name !== undefined && requireDnsLabel(body.name, 'name') !== name) {
      throw invalid(`the body names registry "${String(body.name)}" but the URL names "${name}": a registry cannot be renamed`, { field: 'name' });
    }
    const existing = await find(name);
    const row = await registryFromBody(ctx, { ...body, name }, name, existing, Date.now());
    await commit(ctx, req, { action: 'update', resource: 'registries', ref: name, outcome: 'success', message: body.password !== undefined ? 'password replaced' : '' }, (tx) => tx.registries.upsert(row));
    return toRegistry(row);
  });

  app.delete('/v1/registries/:name', { schema: { ...one, summary: 'Delete a registry' } }, async (req) => {
    const name = req.params.name;
    admin(req, 'delete', name);
    const row = await find(name);
    await commit(ctx, req, { action: 'delete', resource: 'registries', ref: name, outcome: 'success' }, (tx) => tx.registries.delete(name));
    return toRegistry(row);
  });
}
