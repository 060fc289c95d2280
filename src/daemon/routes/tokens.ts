import type { FastifyRequest } from 'fastify';
import { conflict, forbidden, invalid, notFound, RuneError, shown } from '../../core/errors.js';
import { formatDuration, parseDuration, parseTtl } from '../../core/duration.js';
import { DEFAULT_ROTATION_GRACE } from '../../core/expiry.js';
import { mintToken, randomBase62, redactSecrets, TOKEN_PREFIX } from '../../core/tokenFormat.js';
import { CreatedToken, Errors, List, Params, RotatedToken, Token, TokenBulkAnswer, TokenBulkBody, TokenCreateBody, TokenListQuery, TokenPatchBody, TokenRotateBody } from '../../core/schemas.js';
import { formatSelector, parseSelector, type Selector } from '../../core/selector.js';
import type { CreatedToken as CreatedTokenT, RotatedToken as RotatedTokenT, TokenBulkAnswer as TokenBulkAnswerT, TokenStatus } from '../../core/wire.js';
import { audit, authorize, can, commit, describeSubject, isAdminFor, missingGrant, principalOf, refuseGrant, requireAdmin, requireAdminPeer, type App, type Ctx } from '../context.js';
import { hashSecret } from '../crypto.js';
import { checkMaxTtl, issueToken, resolveTtl } from '../issue.js';
import { readPage, readSearch, readSort } from '../paging.js';
import type { SubjectRow } from '../store/subjects.js';
import { TOKEN_SORTS, toToken, type TokenFilter, type TokenRow } from '../store/tokens.js';
import { nextExpiry, PageCache } from '../pageCache.js';
import { checkAttach } from './users.js';

const tags = ['tokens'];
const PATCH_FIELDS = Object.keys(TokenPatchBody.properties);
/** The longest grace a rotation may give the old secret: a rotation is a cut-over, not a second secret. */
const MAX_ROTATION_GRACE_MS = 30 * 86_400_000;
const READ_ONLY_FIELDS = ['id', 'name', 'subjectId', 'subjectName', 'subjectType', 'policies', 'kind', 'createdAt', 'expiresAt', 'revokedAt', 'lastUsedAt', 'status'];

export function tokenRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;

  /**
   * The token if the caller may act on it with `verb`. A token may always act on itself; on its
   * siblings (its subject's other tokens) when it is not narrowed, or its narrowing keeps the
   * `tokens` right; on anyone else's only as an admin of tokens, from where admin is allowed.
   * Anyone else's is invisible: 404, not 403 (§3).
   */
  const tokenFor = async (req: FastifyRequest, id: string, verb: string): Promise<TokenRow> => {
    if (id.startsWith(TOKEN_PREFIX)) {
      throw invalid(`"${redactSecrets(id)}" is a token secret, not a token id: use the id (tok_…), and treat that secret as exposed`, { field: 'id' });
    }
    const p = principalOf(req);
    const row = await store.tokens.get(id);
    const mayManage = can(req, { verb, resource: 'tokens' });
    if (row && (row.id === p.token.id || (row.subject_id === p.subject.id && (!p.tokenPolicies || mayManage)))) return row;
    if (mayManage) {
      requireAdminPeer(ctx, req, { verb, resource: 'tokens' });
      if (row) return row;
    }
    throw notFound(`token "${id}" not found`);
  };

  const list = { tags, summary: 'List tokens: one\'s own, or everyone\'s as an admin of tokens', querystring: TokenListQuery, response: { 200: List(Token), ...Errors } };
  // Pages are cached per caller token and effective filter (pageCache.ts): a client polling a list costs no SQLite.
  const pages = new PageCache(store);
  app.get('/v1/tokens', { schema: list }, async (req, reply) => {
    const query = req.query;
    // ?search= (name, subject, description, id) and ?sort= (TOKEN_SORTS, "-" for descending); the cursor carries the sort.
    const page = readPage(query, 3);
    const listing = { search: readSearch(query), sort: readSort(query, TOKEN_SORTS, 'created') };
    const status: TokenStatus | undefined = query.status || undefined;
    const now = Date.now();
    const within = query.expiresWithin === undefined || query.expiresWithin === '' ? undefined : parseTtl(query.expiresWithin, 'expiresWithin');
    const selector = query.selector === undefined || query.selector === '' ? undefined : parseSelector(query.selector);
    const filter = { ...(status === undefined ? {} : { status }), ...(within === undefined ? {} : { expiresBy: now + within }), ...(selector === undefined ? {} : { selector }) };
    const caller = principalOf(req);
    const self = caller.subject;
    const subject = query.subject === undefined || query.subject === '' ? undefined : String(query.subject);

    /** What the caller may see, decided above; the cache key holds it whole, beside the caller's token id. */
    const send = (visible: TokenFilter) => {
      // One field a line: the id, limit and sort are checked words; the free-form parts are JSON, which has no raw newline.
      const key = `${caller.token.id}\n${page.limit}\n${listing.sort.token}\n${JSON.stringify(page.after ?? null)}\n${JSON.stringify(listing.search ?? null)}\n${JSON.stringify(visible)}`;
      return pages.send(reply, key, () => store.tokens.list(visible, page, Date.now(), listing), (p, now) => nextExpiry(p.items, now));
    };
    if (isAdminFor(ctx, req, { verb: 'list', resource: 'tokens' })) {
      if (subject === undefined) return send(filter);
      const row = await store.subjects.getByName(subject);
      return row ? send({ ...filter, subjectId: row.id }) : { items: [], total: 0 };
    }
    if (subject !== undefined && subject !== self.name) {
      if (can(req, { verb: 'list', resource: 'tokens' })) requireAdminPeer(ctx, req, { verb: 'list', resource: 'tokens' });
      return { items: [] };
    }
    if (caller.tokenPolicies && !can(req, { verb: 'list', resource: 'tokens' })) {
      // A narrowed token without the tokens right sees itself only, not its siblings.
      return send({ ...filter, subjectId: self.id, id: caller.token.id });
    }
    return send({ ...filter, subjectId: self.id });
  });

  const one = { tags, params: Params.id, response: { 200: Token, ...Errors } };
  app.get('/v1/tokens/:id', { schema: { ...one, summary: 'Get a token' } }, async (req) => toToken(await tokenFor(req, req.params.id, 'get')));

  const create = { tags, summary: 'Create a token for oneself, or for a subject as an admin of tokens; the secret is in this answer only', body: TokenCreateBody, response: { 201: CreatedToken, ...Errors } };
  app.post('/v1/tokens', { schema: create, config: { immutable: READ_ONLY_FIELDS } }, async (req, reply) => {
    const body = req.body;
    const self = principalOf(req).subject;
    const subjectName = body.subjectName ?? undefined;
    const subjectId = body.subjectId ?? undefined;
    const name = body.name ?? `token-${randomBase62(5).toLowerCase()}`;
    if (name.trim() === '') throw invalid('name must not be blank', { field: 'name' });
    const description = body.description ?? '';
    const policies = [...new Set(body.policies ?? [])];
    const kind = body.kind ?? 'derived';
    const ttlMs = resolveTtl(ctx.config, body.ttl);

    const caller = principalOf(req);
    let subject: SubjectRow = self;
    const targetsOther = (subjectName !== undefined && subjectName !== self.name) || (subjectId !== undefined && subjectId !== self.id);
    if (targetsOther) {
      const access = { verb: 'create', resource: 'tokens' };
      requireAdmin(ctx, req, access);
      const byName = subjectName !== undefined ? await store.subjects.getByName(subjectName) : undefined;
      const byId = subjectId !== undefined ? await store.subjects.getById(subjectId) : undefined;
      if (subjectName !== undefined && !byName) throw notFound(`subject "${subjectName}" not found: create the user first`);
      if (subjectId !== undefined && !byId) throw notFound(`subject with id "${subjectId}" not found`);
      if (byName && byId && byName.id !== byId.id) throw invalid('subjectName and subjectId name different subjects', { field: 'subjectId' });
      subject = (byName ?? byId)!;
    }

    // Seed: "--policies … (attached if missing)". Attaching passes the escalation guard.
    const held = await store.subjects.policyNames(subject.id);
    const toAttach = policies.filter((p) => !held.includes(p));
    // Attaching, to oneself too, needs the right PUT …/policies/:policy needs: bind alone attaches nothing.
    if (toAttach.length > 0) {
      authorize(ctx, req, { verb: 'update', resource: subject.type === 'user' ? 'users' : 'serviceaccounts' }, subject.name);
    }
    if (policies.length > 0) await checkAttach(ctx, req, toAttach, `${subject.type} ${subject.name}`);

    // A token is at most as strong as the one that minted it: for oneself, a narrowed caller's
    // narrowing carries over (or the new one must fit in it); for another subject, the caller
    // must hold everything the new token would carry.
    let narrowing = policies;
    const narrowingRules = (await store.policies.rulesOf(policies)).flatMap((p) => p.rules);
    if (!targetsOther && caller.tokenPolicies) {
      if (policies.length === 0) narrowing = JSON.parse(caller.token.policies) as string[];
      else {
        const missing = missingGrant(req, narrowingRules, null);
        if (missing.length > 0) refuseGrant(ctx, req, missing, null, `create a token with ${policies.join(', ')}: it would be stronger than the token creating it`);
      }
    } else if (targetsOther) {
      const subjectRules = [...(await store.policies.rulesOfSubjectId(subject.id)), ...(await store.policies.rulesOf(toAttach))].flatMap((p) => p.rules);
      const viaNarrowing = policies.length > 0 ? missingGrant(req, narrowingRules, null) : undefined;
      if (viaNarrowing === undefined || viaNarrowing.length > 0) {
        const viaSubject = missingGrant(req, subjectRules, null);
        if (viaSubject.length > 0) refuseGrant(ctx, req, viaNarrowing ?? viaSubject, null, `create a token for ${subject.type} ${subject.name}`);
      }
    }

    const now = Date.now();
    const event = (i: { row: TokenRow }) => ({ action: 'create', resource: 'tokens', ref: i.row.id, outcome: 'success' as const, message: `for ${subject.type} ${subject.name}` });
    const issued = await commit(ctx, req, event, async (tx) => {
      for (const p of toAttach) await tx.subjects.attach(subject.id, p);
      if (toAttach.length > 0) await tx.subjects.touch(subject.id, now);
      return issueToken(tx, ctx.serverKey, { subject, name, policies: narrowing, ttlMs, description, kind, now, createdBy: principalOf(req).token.id });
    });
    const created: CreatedTokenT = { token: toToken(issued.row, now), secret: issued.bearer };
    if (toAttach.length > 0) created.attached = toAttach;
    return reply.code(201).send(created);
  });

  const patch = { ...one, summary: 'Change a token\'s description, ttl (owners may only shorten it) or enabled', body: TokenPatchBody };
  app.patch('/v1/tokens/:id', { schema: patch, config: { immutable: READ_ONLY_FIELDS } }, async (req) => {
    const body = req.body;
    const row = await tokenFor(req, req.params.id, 'update');
    if (Object.keys(body).length === 0) throw invalid(`nothing to change: send one or more of ${PATCH_FIELDS.join(', ')}`);
    if (row.revoked_at !== null) throw conflict(`token "${row.id}" is revoked and cannot be changed`);

    const self = principalOf(req).subject;
    const asAdmin = isAdminFor(ctx, req, { verb: 'update', resource: 'tokens' });
    const changes: { description?: string; expires_at?: number | null; enabled?: number; disabled_by?: string | null } = {};
    const description = body.description ?? undefined;
    if (description !== undefined) changes.description = description;
    const enabled = body.enabled;
    if (enabled === false && row.enabled === 1) Object.assign(changes, { enabled: 0, disabled_by: self.id });
    if (enabled === true && row.enabled !== 1) {
      // An owner re-enables only what it disabled itself; an administrator's disable stands.
      if (row.disabled_by !== null && row.disabled_by !== self.id && !asAdmin) {
        throw forbidden('this token was disabled by an administrator: only an administrator of tokens can enable it again', {
          missing: { verb: 'update', resource: 'tokens' },
        });
      }
      Object.assign(changes, { enabled: 1, disabled_by: null });
    }
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
      if (extends_ && !asAdmin) {
        throw forbidden('the owner of a token may only reduce its ttl; extending it needs permission "update" on "tokens"', {
          missing: { verb: 'update', resource: 'tokens' },
        });
      }
      changes.expires_at = expiresAt;
    }
    const changed = Object.keys(changes).filter((k) => k !== 'disabled_by');
    await commit(ctx, req, { action: 'update', resource: 'tokens', ref: row.id, outcome: 'success', message: changed.join(', ') }, (tx) => tx.tokens.update(row.id, changes));
    return toToken((await store.tokens.get(row.id))!);
  });

  const rotate = {
    tags,
    params: Params.id,
    summary: 'Issue a new secret for a token (same id, policies and expiry); the old secret keeps working for the grace period, each use of it audited (action old-secret)',
    body: TokenRotateBody,
    response: { 200: RotatedToken, ...Errors },
  };
  // Every field has a default, so no body at all is a rotation with the defaults.
  const noBodyIsEmpty = async (req: FastifyRequest) => {
    if (req.body === undefined) req.body = {};
  };
  app.post('/v1/tokens/:id/rotate', { schema: rotate, preValidation: noBodyIsEmpty }, async (req) => {
    const row = await tokenFor(req, req.params.id, 'update');
    // Whoever holds only the replaced secret must not win the token back by rotating it again.
    if (req.previousSecretUntil !== null) {
      const message = 'this request was made with a secret that a rotation replaced: rotate with the current secret';
      audit(ctx, req, { action: 'rotate', resource: 'tokens', ref: row.id, outcome: 'denied', message });
      throw forbidden(message, { reason: 'replaced_secret' });
    }
    const now = Date.now();
    if (row.revoked_at !== null) throw conflict(`token "${row.id}" is revoked and cannot be rotated`);
    if (row.expires_at !== null && row.expires_at <= now) throw conflict(`token "${row.id}" has expired and cannot be rotated: create a new one`);
    const graceMs = parseGrace(req.body.grace ?? DEFAULT_ROTATION_GRACE);
    // The old secret never outlives the token itself.
    const until = graceMs === 0 ? null : Math.min(now + graceMs, row.expires_at ?? Number.MAX_SAFE_INTEGER);
    const minted = mintToken(row.id);
    const message = until === null ? 'grace 0: the old secret stopped working at once' : `grace ${formatDuration(graceMs)}: the old secret works until ${new Date(until).toISOString()}`;
    await commit(ctx, req, { action: 'rotate', resource: 'tokens', ref: row.id, outcome: 'success', message }, (tx) =>
      tx.tokens.rotateSecret(row.id, hashSecret(ctx.serverKey, row.id, minted.secret), until),
    );
    const rotated: RotatedTokenT = { token: toToken((await store.tokens.get(row.id))!, now), secret: minted.bearer };
    if (until !== null) rotated.graceUntil = new Date(until).toISOString();
    return rotated;
  });

  app.delete('/v1/tokens/:id', { schema: { ...one, summary: 'Revoke a token: the next request with it answers 401' } }, async (req) => {
    const row = await tokenFor(req, req.params.id, 'delete');
    await commit(ctx, req, { action: 'revoke', resource: 'tokens', ref: row.id, outcome: 'success' }, (tx) => tx.tokens.revoke(row.id, Date.now()));
    return toToken((await store.tokens.get(row.id))!);
  });

  /**
   * Whether the caller may act on `row` with `verb` one by one: the rule of DELETE and PATCH
   * /v1/tokens/:id (itself; its siblings unless its narrowing drops the tokens right; anyone's as
   * an admin of tokens, from where admin is allowed).
   */
  const mayActOn = (req: FastifyRequest, row: TokenRow, verb: string): boolean => {
    const p = principalOf(req);
    if (row.id === p.token.id) return true;
    if (row.subject_id === p.subject.id && (!p.tokenPolicies || can(req, { verb, resource: 'tokens' }))) return true;
    return isAdminFor(ctx, req, { verb, resource: 'tokens' });
  };

  /** Where a selector looks: what the caller may list (GET /v1/tokens), or act on as an admin of tokens. */
  const selectionScope = (req: FastifyRequest, verb: string): { subjectId?: string; id?: string } => {
    const p = principalOf(req);
    if (isAdminFor(ctx, req, { verb: 'list', resource: 'tokens' }) || isAdminFor(ctx, req, { verb, resource: 'tokens' })) return {};
    if (p.tokenPolicies && !can(req, { verb: 'list', resource: 'tokens' })) return { subjectId: p.subject.id, id: p.token.id };
    return { subjectId: p.subject.id };
  };

  /**
   * Revokes or disables every live token a selector matches, all or nothing: a match the caller
   * may not change one by one refuses the whole call (403), as does a count other than `expect`
   * (409). The caller's own token is skipped. One transaction, one audit event listing the ids.
   */
  const bulk = (action: 'revoke' | 'disable') => async (req: FastifyRequest<{ Body: { selector: string; dryRun?: boolean; expect?: number } }>): Promise<TokenBulkAnswerT> => {
    const verb = action === 'revoke' ? 'delete' : 'update';
    const { dryRun = false, expect } = req.body;
    const p = principalOf(req);
    const done = action === 'revoke' ? 'revoked' : 'disabled';
    let canonical = req.body.selector;
    // Refusals are recorded under this action, not as a failed "create" (the method is POST).
    const refuse = (error: RuneError, outcome: 'denied' | 'error'): never => {
      audit(ctx, req, { action, resource: 'tokens', ref: canonical, outcome, message: `${dryRun ? 'dry run: ' : ''}${error.message}` });
      throw error;
    };
    let selector: Selector;
    try {
      selector = parseSelector(req.body.selector);
    } catch (e) {
      if (!(e instanceof RuneError)) throw e;
      return refuse(e, 'error');
    }
    canonical = formatSelector(selector);
    const now = Date.now();
    const scope = selectionScope(req, verb);
    /** The tokens to change, and the matches left alone (the caller's own; already disabled). */
    const partition = (matched: TokenRow[]) => {
      const targets: TokenRow[] = [];
      const skipped: { token: TokenRow; reason: string }[] = [];
      for (const row of matched) {
        if (row.id === p.token.id) skipped.push({ token: row, reason: `the token making this call: a selector never ${action === 'revoke' ? 'revokes' : 'disables'} it (name it by id to do that)` });
        else if (action === 'disable' && row.enabled !== 1) skipped.push({ token: row, reason: 'already disabled' });
        else targets.push(row);
      }
      return { targets, skipped };
    };
    const { targets, skipped } = partition(await store.tokenSelection.match(selector, now, scope));
    const refused = targets.filter((row) => !mayActOn(req, row, verb)).length;
    if (refused > 0) {
      refuse(
        forbidden(
          `${describeSubject(p)} may not ${action} ${refused} of the ${targets.length} token(s) the selector matches (another subject's tokens need permission "${verb}" on "tokens"): nothing was ${done}`,
          { missing: { verb, resource: 'tokens' }, refused, matched: targets.length },
        ),
        'denied',
      );
    }
    if (expect !== undefined && expect !== targets.length) {
      refuse(conflict(`expected ${expect} token(s) to be ${done}, but the selector matches ${targets.length}: nothing was ${done}`, { expected: expect, matched: targets.length }), 'error');
    }
    const ids = targets.map((row) => row.id);
    let after = targets;
    if (!dryRun) {
      const message = `by selector: ${ids.length} token(s)${ids.length > 0 ? `: ${ids.join(', ')}` : ''}`;
      const moved = conflict(`the tokens the selector matches changed while this call ran: nothing was ${done}; run it again`, { reason: 'changed' });
      try {
        await commit(ctx, req, { action, resource: 'tokens', ref: canonical, outcome: 'success', message }, async (tx) => {
          // Checked again where it is applied: what changes is exactly what was checked above.
          const current = partition(await tx.tokenSelection.match(selector, now, scope)).targets.map((row) => row.id);
          if (current.length !== ids.length || current.some((id, i) => id !== ids[i])) throw moved;
          return action === 'revoke' ? tx.tokenSelection.revoke(ids, now) : tx.tokenSelection.disable(ids, p.subject.id);
        });
      } catch (e) {
        if (e === moved) refuse(moved, 'error');
        throw e;
      }
      after = targets.map((row) => (action === 'revoke' ? { ...row, revoked_at: now } : { ...row, enabled: 0, disabled_by: p.subject.id }));
    }
    return {
      action,
      selector: canonical,
      dryRun,
      count: targets.length,
      tokens: after.map((row) => toToken(row, now)),
      skipped: skipped.map(({ token, reason }) => ({ token: toToken(token, now), reason })),
    };
  };

  const bulkSchema = { tags, body: TokenBulkBody, response: { 200: TokenBulkAnswer, ...Errors } };
  app.post('/v1/tokens/revoke', {
    schema: { ...bulkSchema, summary: 'Revoke every live token a selector matches (never the caller\'s own), or with dryRun list them; all or nothing' },
  }, bulk('revoke'));
  app.post('/v1/tokens/disable', {
    schema: { ...bulkSchema, summary: 'Disable every live, enabled token a selector matches (never the caller\'s own), or with dryRun list them; all or nothing' },
  }, bulk('disable'));
}

/** A rotation's grace: a duration, or "0" for none; at most MAX_ROTATION_GRACE_MS. */
function parseGrace(text: string): number {
  const ms = /^\s*0\s*$/.test(text) ? 0 : parseDuration(text);
  if (ms === undefined) throw invalid(`grace "${shown(text)}" is not a duration: use e.g. "1h", "30m" or "0" to cut over at once`, { field: 'grace' });
  if (ms > MAX_ROTATION_GRACE_MS) throw invalid(`grace ${formatDuration(ms)} is longer than the maximum of ${formatDuration(MAX_ROTATION_GRACE_MS)}`, { field: 'grace', max: formatDuration(MAX_ROTATION_GRACE_MS) });
  return ms;
}
