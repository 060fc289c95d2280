import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { formatDuration, parseTtl } from '../../core/duration.js';
import { alreadyExists, invalid, notFound, RuneError } from '../../core/errors.js';
import { requireDnsLabel } from '../../core/names.js';
import { CLAIM_NAME, hasGlob, RESERVED_CLAIMS } from '../../core/trusts.js';
import type { ExchangedToken } from '../../core/wire.js';
import { checkFields, objectBody, optionalBoolean, optionalString } from '../body.js';
import { Errors, ExchangeBody, ExchangedToken as ExchangedTokenSchema, List, PageQuery, Params, Trust, TrustBody } from '../../core/schemas.js';
import { audit, authorize, commit, guardGrant, requireAdmin, type App, type Ctx } from '../context.js';
import { checkMaxTtl, issueToken } from '../issue.js';
import { ExchangeRefused, issuerUrlProblem, MAX_JWT_BYTES, verifyForTrust, type IssuerKeyCache } from '../oidc.js';
import { readPage } from '../paging.js';
import { toToken } from '../store/tokens.js';
import { toTrust, type TrustRow } from '../store/trusts.js';
import { findServiceAccount } from './serviceaccounts.js';

const tags = ['trusts'];
const one = { tags, params: Params.name, response: { 200: Trust, ...Errors } };

const CREATE_FIELDS = ['name', 'issuer', 'audience', 'claims', 'serviceAccount', 'ttl', 'allowGlob', 'description'];
const READ_ONLY_FIELDS = ['createdAt', 'warnings'];
const EXCHANGE_FIELDS = ['trust', 'jwt'];
export const DEFAULT_TRUST_TTL_MS = 15 * 60_000;
const MAX_CLAIMS = 32;

/** The claims object of a trust: names a CI platform would use, exact string values, patterns only when allowed. */
function readClaims(value: unknown, allowGlob: boolean): Record<string, string> {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('claims is required: an object of claim name → exact value, e.g. {"sub": "repo:acme/api:ref:refs/heads/main"}', { field: 'claims' });
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw invalid('claims must bind at least one claim (sub or repository, say): the audience alone lets in every workload of the issuer', { field: 'claims' });
  if (entries.length > MAX_CLAIMS) throw invalid(`claims may bind at most ${MAX_CLAIMS} claims`, { field: 'claims' });
  const claims: Record<string, string> = {};
  for (const [name, bound] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const field = `claims.${name}`;
    if ((RESERVED_CLAIMS as readonly string[]).includes(name)) {
      throw invalid(`claim "${name}" is checked by runed itself: set ${name === 'iss' ? 'issuer' : name === 'aud' ? 'audience' : 'ttl (the token\'s own exp, nbf, iat and jti are always checked)'} instead`, { field });
    }
    if (!CLAIM_NAME.test(name)) throw invalid(`claim name "${name.slice(0, 64)}" is invalid: letters, digits, "_", ".", ":" and "-", starting with a letter`, { field });
    if (typeof bound !== 'string' || bound === '') throw invalid(`${field} must be a non-empty string`, { field });
    if (bound.length > 512) throw invalid(`${field} must be at most 512 characters`, { field });
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(bound)) throw invalid(`${field} must not contain control characters`, { field });
    if (hasGlob(bound) && !allowGlob) {
      throw invalid(`${field} "${bound}" is a pattern: patterns are refused unless allowGlob is true (--allow-glob); bind the exact value instead`, { field });
    }
    claims[name] = bound;
  }
  return claims;
}

/**
 * Trusts: an issuer, an exact audience and claim values bound to a service account. They are
 * governed by the serviceaccounts right (a trust is a way to authenticate as the account), and
 * creating one also needs "create" on "tokens" plus holding what the account holds: a trust mints
 * that account's tokens for as long as it exists.
 */
export function trustRoutes(app: App, ctx: Ctx): void {
  const { store, config } = ctx;

  const list = { tags, summary: 'List trusts (OIDC issuers bound to service accounts)', querystring: Type.Object({ ...PageQuery, serviceAccount: Type.Optional(Type.String()) }, { additionalProperties: false }), response: { 200: List(Trust), ...Errors } };
  app.get('/v1/trusts', { schema: list }, async (req) => {
    requireAdmin(ctx, req, { verb: 'list', resource: 'serviceaccounts' });
    const query = req.query as Record<string, unknown>;
    const page = readPage(query, 1);
    const account = query.serviceAccount === undefined || query.serviceAccount === '' ? undefined : String(query.serviceAccount);
    if (account === undefined) return store.trusts.list({}, page);
    const row = await store.subjects.getByName(account);
    return row && row.type === 'service' ? store.trusts.list({ subjectId: row.id }, page) : { items: [] };
  });

  app.get('/v1/trusts/:name', { schema: { ...one, summary: 'Get a trust' } }, async (req) => {
    requireAdmin(ctx, req, { verb: 'get', resource: 'serviceaccounts' }, req.params.name);
    const row = await store.trusts.get(req.params.name);
    if (!row) throw notFound(`trust "${req.params.name}" not found`);
    return toTrust(row);
  });

  const create = { tags, summary: 'Create a trust: the creator must hold what the service account holds', body: TrustBody, response: { 201: Trust, ...Errors } };
  app.post('/v1/trusts', { schema: create, config: { immutable: READ_ONLY_FIELDS } }, async (req, reply) => {
    const body = objectBody(req.body);
    checkFields(body, CREATE_FIELDS, READ_ONLY_FIELDS);
    const name = requireDnsLabel(body.name, 'name');
    requireAdmin(ctx, req, { verb: 'update', resource: 'serviceaccounts' }, name);
    authorize(ctx, req, { verb: 'create', resource: 'tokens' }, name);

    const issuer = optionalString(body, 'issuer', 512);
    if (issuer === undefined) throw invalid('issuer is required: the OIDC issuer URL, e.g. https://token.actions.githubusercontent.com', { field: 'issuer' });
    const problem = issuerUrlProblem(issuer);
    if (problem) throw invalid(`issuer "${issuer}" ${problem}`, { field: 'issuer' });
    const audience = optionalString(body, 'audience', 256);
    if (audience === undefined || audience.trim() === '') throw invalid('audience is required: the exact "aud" the CI job requests its token for', { field: 'audience' });
    const allowGlob = optionalBoolean(body, 'allowGlob') ?? false;
    const claims = readClaims(body.claims, allowGlob);
    const accountName = requireDnsLabel(body.serviceAccount, 'serviceAccount');
    const description = optionalString(body, 'description') ?? '';
    const ttlMs = body.ttl === undefined || body.ttl === null ? Math.min(DEFAULT_TRUST_TTL_MS, config.auth.oidcMaxTtl, config.auth.tokenMaxTtl ?? Infinity) : parseTtl(body.ttl);
    if (ttlMs > config.auth.oidcMaxTtl) {
      throw invalid(`ttl ${formatDuration(ttlMs)} is longer than the maximum of ${formatDuration(config.auth.oidcMaxTtl)} (auth.oidcMaxTtl)`, { field: 'ttl', max: formatDuration(config.auth.oidcMaxTtl) });
    }
    checkMaxTtl(config, ttlMs);

    const account = await findServiceAccount(ctx, accountName);
    if (await store.trusts.get(name)) throw alreadyExists(`trust "${name}" already exists`);
    const accountRules = (await store.policies.rulesOfSubjectId(account.id)).flatMap((p) => p.rules);
    guardGrant(ctx, req, accountRules, null, `create trust ${name} for service account ${account.name}`);

    const now = Date.now();
    const row: TrustRow = { name, issuer, audience, claims: JSON.stringify(claims), subject_id: account.id, ttl_ms: ttlMs, allow_glob: allowGlob ? 1 : 0, description, created_at: now };
    const bindings = Object.entries(claims).map(([k, v]) => `${k}=${v}`).join(', ');
    const event = { action: 'create', resource: 'trusts', ref: name, outcome: 'success' as const, message: `for serviceaccount ${account.name}: issuer ${issuer}, audience ${audience}, ${bindings}, ttl ${formatDuration(ttlMs)}` };
    await commit(ctx, req, event, async (tx) => {
      if (await tx.trusts.get(name)) throw alreadyExists(`trust "${name}" already exists`);
      await tx.trusts.insert(row);
    });
    return reply.code(201).send(toTrust((await store.trusts.get(name))!));
  });

  app.delete('/v1/trusts/:name', { schema: { ...one, summary: 'Delete a trust: no new exchanges; tokens already minted live out their short TTL' } }, async (req) => {
    requireAdmin(ctx, req, { verb: 'update', resource: 'serviceaccounts' }, req.params.name);
    const row = await store.trusts.get(req.params.name);
    if (!row) throw notFound(`trust "${req.params.name}" not found`);
    // Tokens minted through the trust stay valid until their short TTL ends: revoke them by id if needed.
    await commit(ctx, req, { action: 'delete', resource: 'trusts', ref: row.name, outcome: 'success', message: `of serviceaccount ${row.subject_name}` }, (tx) => tx.trusts.delete(row.name));
    return toTrust(row);
  });
}

export interface ExchangeDeps {
  keys: IssuerKeyCache;
  /**
   * Counts a failed exchange with the failed authentications of the request's network: answers
   * the seconds to wait when that network is past the limit (else 0), and whether this failure
   * is the first of its kind in the window (recorded in full; the rest are summarised).
   */
  countFailure(req: FastifyRequest, reason: string): { retryAfter: number; first: boolean };
}

/** POST /v1/auth/oidc/exchange: a CI job's OIDC token for a short-lived token of the trust's service account. */
export function oidcExchangeRoutes(app: App, ctx: Ctx, deps: ExchangeDeps): void {
  const { store, config } = ctx;

  const refuse = (req: FastifyRequest, reply: FastifyReply, trust: string, refusal: ExchangeRefused): never => {
    const { retryAfter, first } = deps.countFailure(req, `oidc_${refusal.check}`);
    if (first) {
      audit(ctx, req, {
        action: 'exchange',
        resource: 'trusts',
        ref: trust,
        outcome: 'denied',
        message: `${retryAfter > 0 ? 'rate_limited' : refusal.check}: ${refusal.message}${refusal.detail ? ` (${refusal.detail})` : ''}`,
      });
    }
    if (retryAfter > 0) {
      reply.header('Retry-After', String(retryAfter));
      throw new RuneError('rate_limited', `too many failed authentications from this network; retry in ${retryAfter}s`);
    }
    throw new RuneError('unauthenticated', `OIDC exchange refused (${refusal.check}): ${refusal.message}`, { reason: refusal.check });
  };

  const exchange = {
    tags: ['session'],
    summary: 'Exchange a CI job\'s OIDC token for a short-lived token of the trust\'s service account (no bearer token); each JWT once',
    security: [],
    body: ExchangeBody,
    response: { 201: ExchangedTokenSchema, ...Errors },
  };
  app.post('/v1/auth/oidc/exchange', { schema: exchange }, async (req, reply) => {
    const body = objectBody(req.body);
    checkFields(body, EXCHANGE_FIELDS);
    const trustName = requireDnsLabel(body.trust, 'trust');
    if (typeof body.jwt !== 'string' || body.jwt === '') throw invalid('jwt is required: the CI job\'s OIDC ID token', { field: 'jwt' });
    if (body.jwt.length > MAX_JWT_BYTES) throw invalid(`jwt must be at most ${MAX_JWT_BYTES} characters`, { field: 'jwt' });
    const jwt = body.jwt.trim();

    const trust = await store.trusts.get(trustName);
    if (!trust) return refuse(req, reply, trustName, new ExchangeRefused('trust', `no trust named "${trustName}"`));
    const claims = JSON.parse(trust.claims) as Record<string, string>;
    let verified;
    try {
      verified = await verifyForTrust(deps.keys, { issuer: trust.issuer, audience: trust.audience, claims, allowGlob: trust.allow_glob === 1 }, jwt);
    } catch (err) {
      if (err instanceof ExchangeRefused) return refuse(req, reply, trust.name, err);
      throw err;
    }

    const now = Date.now();
    const ttlMs = Math.min(trust.ttl_ms, config.auth.oidcMaxTtl, config.auth.tokenMaxTtl ?? Infinity);
    const presented = Object.keys(claims).map((k) => `${k}=${JSON.stringify(verified.payload[k])}`).join(', ');
    let issued;
    try {
      issued = await commit(
        ctx,
        req,
        (i: { row: { id: string }; account: string }) => ({
          action: 'exchange',
          resource: 'trusts',
          ref: trust.name,
          outcome: 'success',
          message: `token ${i.row.id} (${formatDuration(ttlMs)}) for serviceaccount ${i.account}; matched issuer ${trust.issuer}, audience ${trust.audience}, ${presented}`,
        }),
        async (tx) => {
          // The trust or its account may have been deleted while the keys were fetched.
          const current = await tx.trusts.get(trust.name);
          const account = current && (await tx.subjects.getById(current.subject_id));
          if (!current || !account || current.subject_id !== trust.subject_id) throw new ExchangeRefused('trust', `no trust named "${trust.name}"`);
          if (!(await tx.trusts.rememberExchange(verified.replayKey, verified.expiresAt, now))) throw new ExchangeRefused('replay', 'this token was already exchanged: each CI token is accepted once');
          const minted = await issueToken(tx, ctx.serverKey, {
            subject: account,
            name: `oidc-${trust.name}`,
            policies: [],
            ttlMs,
            description: `via trust ${trust.name}`,
            kind: 'session',
            now,
          });
          return { ...minted, account: account.name };
        },
      );
    } catch (err) {
      if (err instanceof ExchangeRefused) return refuse(req, reply, trust.name, err);
      throw err;
    }
    const answer: ExchangedToken = { token: toToken(issued.row, now), secret: issued.bearer, trust: trust.name, serviceAccount: issued.account };
    return reply.code(201).send(answer);
  });
}
