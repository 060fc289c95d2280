import type { FastifyInstance, FastifyRequest } from 'fastify';
import { conflict, forbidden, invalid, notFound } from '../../core/errors.js';
import { parseTtl } from '../../core/duration.js';
import { randomBase62 } from '../../core/tokenFormat.js';
import type { CreatedToken, TokenKind, TokenStatus } from '../../core/wire.js';
import { checkFields, objectBody, optionalBoolean, optionalString, optionalStringList } from '../body.js';
import { audit, authorize, can, isAdminFor, principalOf, requireAdmin, requireAdminPeer, type Ctx } from '../context.js';
import { checkMaxTtl, issueToken, resolveTtl } from '../issue.js';
import { readPage } from '../paging.js';
import type { SubjectRow } from '../store/subjects.js';
import { toToken, type TokenRow } from '../store/tokens.js';
import { checkAttach } from './users.js';

type IdParams = { id: string };

const STATUSES: readonly TokenStatus[] = ['active', 'expired', 'disabled', 'revoked'];
const KINDS: readonly TokenKind[] = ['session', 'derived'];
const CREATE_FIELDS = ['name', 'subjectName', 'subjectId', 'policies', 'ttl', 'description', 'kind'];
const PATCH_FIELDS = ['description', 'ttl', 'enabled'];
const READ_ONLY_FIELDS = ['id', 'name', 'subjectId', 'subjectName', 'subjectType', 'policies', 'kind', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt', 'status'];

export function tokenRoutes(app: FastifyInstance, ctx: Ctx): void {
  const { store } = ctx;

  /**
   * The token if the caller may act on it with `verb`: its own always; another's only as an admin
   * of tokens, from where admin is allowed. Anyone else's is invisible: 404, not 403 (§3).
   */
  const tokenFor = (req: FastifyRequest, id: string, verb: string): TokenRow => {
    const row = store.tokens.get(id);
    if (row && row.subject_id === principalOf(req).subject.id) return row;
    if (can(req, { verb, resource: 'tokens' })) {
      requireAdminPeer(ctx, req, { verb, resource: 'tokens' });
      if (row) return row;
    }
    throw notFound(`token "${id}" not found`);
  };

  app.get('/v1/tokens', async (req) => {
    const query = req.query as Record<string, unknown>;
    const page = readPage(query, 2);
    const status = query.status === undefined || query.status === '' ? undefined : String(query.status);
    if (status !== undefined && !STATUSES.includes(status as TokenStatus)) {
      throw invalid(`status must be one of ${STATUSES.join(', ')}`, { field: 'status' });
    }
    const filter = status === undefined ? {} : { status: status as TokenStatus };
    const self = principalOf(req).subject;
    const subject = query.subject === undefined || query.subject === '' ? undefined : String(query.subject);
    const now = Date.now();

    if (isAdminFor(ctx, req, { verb: 'list', resource: 'tokens' })) {
      if (subject === undefined) return store.tokens.list(filter, page, now);
      const row = store.subjects.getByName(subject);
      return row ? store.tokens.list({ ...filter, subjectId: row.id }, page, now) : { items: [] };
    }
    if (subject !== undefined && subject !== self.name) {
      if (can(req, { verb: 'list', resource: 'tokens' })) requireAdminPeer(ctx, req, { verb: 'list', resource: 'tokens' });
      return { items: [] };
    }
    return store.tokens.list({ ...filter, subjectId: self.id }, page, now);
  });

  app.get<{ Params: IdParams }>('/v1/tokens/:id', async (req) => toToken(tokenFor(req, req.params.id, 'get')));

  app.post('/v1/tokens', async (req, reply) => {
    const body = objectBody(req.body);
    checkFields(body, CREATE_FIELDS, READ_ONLY_FIELDS);
    const self = principalOf(req).subject;
    const subjectName = optionalString(body, 'subjectName', 63);
    const subjectId = optionalString(body, 'subjectId', 64);
    const name = optionalString(body, 'name', 128) ?? `token-${randomBase62(5).toLowerCase()}`;
    if (name.trim() === '') throw invalid('name must not be blank', { field: 'name' });
    const description = optionalString(body, 'description') ?? '';
    const policies = optionalStringList(body, 'policies') ?? [];
    const kind = (optionalString(body, 'kind', 16) ?? 'derived') as TokenKind;
    if (!KINDS.includes(kind)) throw invalid(`kind must be one of ${KINDS.join(', ')}`, { field: 'kind' });
    const ttlMs = resolveTtl(ctx.config, body.ttl);

    let subject: SubjectRow = self;
    const targetsOther = (subjectName !== undefined && subjectName !== self.name) || (subjectId !== undefined && subjectId !== self.id);
    if (targetsOther) {
      const access = { verb: 'create', resource: 'tokens' };
      requireAdmin(ctx, req, access);
      const byName = subjectName !== undefined ? store.subjects.getByName(subjectName) : undefined;
      const byId = subjectId !== undefined ? store.subjects.getById(subjectId) : undefined;
      if (subjectName !== undefined && !byName) throw notFound(`subject "${subjectName}" not found: create the user first`);
      if (subjectId !== undefined && !byId) throw notFound(`subject with id "${subjectId}" not found`);
      if (byName && byId && byName.id !== byId.id) throw invalid('subjectName and subjectId name different subjects', { field: 'subjectId' });
      subject = (byName ?? byId)!;
    }

    // Seed: "--policies … (attached if missing)". Attaching passes the escalation guard.
    const held = store.subjects.policyNames(subject.id);
    const toAttach = policies.filter((p) => !held.includes(p));
    if (policies.length > 0) checkAttach(ctx, req, toAttach, `${subject.type} ${subject.name}`);
    if (toAttach.length > 0 && subject.id !== self.id) {
      authorize(ctx, req, { verb: 'update', resource: subject.type === 'user' ? 'users' : 'serviceaccounts' }, subject.name);
    }

    const now = Date.now();
    const issued = store.transaction(() => {
      for (const p of toAttach) store.subjects.attach(subject.id, p);
      if (toAttach.length > 0) store.subjects.touch(subject.id, now);
      return issueToken(store, ctx.serverKey, { subject, name, policies, ttlMs, description, kind, now });
    });
    audit(ctx, req, { action: 'create', resource: 'tokens', ref: issued.row.id, outcome: 'success', message: `for ${subject.type} ${subject.name}` });
    const created: CreatedToken = { token: toToken(issued.row, now), secret: issued.bearer };
    if (toAttach.length > 0) created.attached = toAttach;
    return reply.code(201).send(created);
  });

  app.patch<{ Params: IdParams }>('/v1/tokens/:id', async (req) => {
    const body = objectBody(req.body);
    const row = tokenFor(req, req.params.id, 'update');
    checkFields(body, PATCH_FIELDS, READ_ONLY_FIELDS);
    if (Object.keys(body).length === 0) throw invalid(`nothing to change: send one or more of ${PATCH_FIELDS.join(', ')}`);
    if (row.revoked_at !== null) throw conflict(`token "${row.id}" is revoked and cannot be changed`);

    const changes: { description?: string; expires_at?: number | null; enabled?: number } = {};
    const description = optionalString(body, 'description');
    if (description !== undefined) changes.description = description;
    const enabled = optionalBoolean(body, 'enabled');
    if (enabled !== undefined) changes.enabled = enabled ? 1 : 0;
    if ('ttl' in body) {
      // The TTL is the token's whole lifetime, counted from its creation (Rancher's semantics).
      let expiresAt: number | null;
      if (body.ttl === null) {
        if (ctx.config.auth.tokenMaxTtl !== undefined) throw invalid('ttl cannot be removed while auth.tokenMaxTtl is set', { field: 'ttl' });
        expiresAt = null;
      } else {
        const ms = parseTtl(body.ttl);
        checkMaxTtl(ctx.config, ms);
        expiresAt = row.created_at + ms;
      }
      const extends_ = row.expires_at !== null && (expiresAt === null || expiresAt > row.expires_at);
      if (extends_ && !isAdminFor(ctx, req, { verb: 'update', resource: 'tokens' })) {
        throw forbidden('the owner of a token may only reduce its ttl; extending it needs permission "update" on "tokens"', {
          missing: { verb: 'update', resource: 'tokens' },
        });
      }
      changes.expires_at = expiresAt;
    }
    store.transaction(() => store.tokens.update(row.id, changes));
    audit(ctx, req, { action: 'update', resource: 'tokens', ref: row.id, outcome: 'success', message: Object.keys(changes).join(', ') });
    return toToken(store.tokens.get(row.id)!);
  });

  app.delete<{ Params: IdParams }>('/v1/tokens/:id', async (req) => {
    const row = tokenFor(req, req.params.id, 'delete');
    store.transaction(() => store.tokens.revoke(row.id, Date.now()));
    audit(ctx, req, { action: 'revoke', resource: 'tokens', ref: row.id, outcome: 'success' });
    return toToken(store.tokens.get(row.id)!);
  });
}
