import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawServerDefault } from 'fastify';
import { conflict, forbidden, RuneError, shown } from '../core/errors.js';
import { redactSecrets } from '../core/tokenFormat.js';
import type { PolicyLimits, Rule } from '../core/policy.js';
import { describeAccess, describeRule, holds, missingRules, type Access } from '../core/rbac.js';
import type { AuditEvent, AuditSink } from './audit.js';
import type { Authenticator, Principal } from './authn.js';
import type { DaemonConfig } from './config.js';
import type { Keyring } from './kek.js';
import { isLoopback } from './net.js';
import type { Store } from './store/index.js';

/** What every route needs: configuration, the store, and the daemon's authn/audit services. */
export interface Ctx {
  config: DaemonConfig;
  store: Store;
  serverKey: Buffer;
  authn: Authenticator;
  audit: AuditSink;
  keyring: Keyring;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** When the request authenticated with a secret a rotation replaced: the end of its grace (ms). */
    previousSecretUntil: number | null;
  }
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error(`route ${req.url} reached without authentication`);
  return req.principal;
}

/** The peer address of the connection itself; proxies' headers are never trusted. */
export const peerOf = (req: FastifyRequest): string | undefined => req.socket?.remoteAddress ?? undefined;

const loopbackSockets = new WeakMap<object, boolean>();

/** Whether the connection's peer is loopback; known once per connection (its address never changes). */
export function isLocal(req: FastifyRequest): boolean {
  const socket = req.socket;
  if (!socket) return false;
  let local = loopbackSockets.get(socket);
  if (local === undefined) loopbackSockets.set(socket, (local = isLoopback(socket.remoteAddress ?? undefined)));
  return local;
}

export function describeSubject(p: Principal): string {
  return `${p.subject.type} ${p.subject.name}`;
}

const audited = new WeakSet<FastifyRequest>();
export const wasAudited = (req: FastifyRequest) => audited.has(req);

type EventInput = Omit<AuditEvent, 'actor' | 'remoteAddr'>;

/** The event as stored: who, from where, and nothing shaped like a secret in its text. */
export function fullEvent(req: FastifyRequest, event: EventInput): AuditEvent {
  const p = req.principal;
  const full: AuditEvent = { ...event };
  if (full.ref !== undefined) full.ref = redactSecrets(full.ref);
  if (full.message !== undefined) full.message = redactSecrets(full.message);
  if (p) full.actor = { name: p.subject.name, type: p.subject.type, tokenId: p.token.id };
  const peer = peerOf(req);
  if (peer) full.remoteAddr = peer;
  return full;
}

/** Records a refusal or a failure: nothing changed, so a failed append is logged, not fatal. */
export function audit(ctx: Ctx, req: FastifyRequest, event: EventInput): void {
  audited.add(req);
  const full = fullEvent(req, event);
  // A refusal's text may quote what the caller sent: bounded, so no request writes more than this
  // to a trail that is never pruned.
  if (full.message !== undefined) full.message = shown(full.message, MAX_REFUSAL_TEXT);
  if (full.ref !== undefined) full.ref = shown(full.ref, MAX_REFUSAL_REF);
  ctx.audit.record(full);
}

const MAX_REFUSAL_TEXT = 1000;
const MAX_REFUSAL_REF = 200;

/**
 * Makes a change and writes its audit event in the same transaction: no action without its
 * record. When the event cannot be written the change is rolled back and the caller gets 503.
 * `change` gets the transaction's store: inside it, use `tx`, never ctx.store.
 */
export async function commit<T>(ctx: Ctx, req: FastifyRequest, event: EventInput | ((result: T) => EventInput), change: (tx: Store) => Promise<T>): Promise<T> {
  audited.add(req);
  let appending = false;
  try {
    return await ctx.store.transaction(async (tx) => {
      const result = await change(tx);
      appending = true;
      await tx.audit.append(fullEvent(req, typeof event === 'function' ? event(result) : event));
      appending = false;
      return result;
    });
  } catch (e) {
    if (!appending) {
      audited.delete(req); // the change itself failed: the error handler records that
      throw e;
    }
    req.log.error({ err: e }, 'could not write the audit event: the change was rolled back');
    throw new RuneError('unavailable', 'the change was not made: its audit event could not be written (see the daemon log)');
  }
}

/** Admin operations are accepted only from loopback unless auth.allowRemoteAdmin (§5). */
export function requireAdminPeer(ctx: Ctx, req: FastifyRequest, access: Access): void {
  if (ctx.config.auth.allowRemoteAdmin || isLocal(req)) return;
  audit(ctx, req, { action: access.verb, resource: access.resource, outcome: 'denied', message: 'remote admin refused' });
  throw forbidden(
    `${describeAccess(access)} is an admin operation, accepted only on the daemon's host (loopback); ` +
      'set auth.allowRemoteAdmin: true to allow it remotely',
    { reason: 'remote_admin_disabled' },
  );
}

/** An admin operation: from where admin is allowed (§5), and only with the permission (§4). */
export function requireAdmin(ctx: Ctx, req: FastifyRequest, access: Access, ref?: string): void {
  requireAdminPeer(ctx, req, access);
  authorize(ctx, req, access, ref);
}

export function can(req: FastifyRequest, access: Access): boolean {
  return holds(principalOf(req).holdings, access);
}

/** 403 naming the missing permission unless the caller holds `access`. */
export function authorize(ctx: Ctx, req: FastifyRequest, access: Access, ref?: string): void {
  const p = principalOf(req);
  if (holds(p.holdings, access)) return;
  const message = `${describeSubject(p)} may not ${describeAccess(access)}: missing permission "${access.verb}" on "${access.resource}"${
    access.namespace ? ` in namespace "${access.namespace}"` : ''
  }`;
  audit(ctx, req, { action: access.verb, resource: access.resource, ...(ref ? { ref } : {}), ...(access.namespace ? { namespace: access.namespace } : {}), outcome: 'denied', message });
  throw forbidden(message, { missing: access });
}

/** An admin of `resource` from where it is allowed: what "see and manage everyone's" needs. */
export function isAdminFor(ctx: Ctx, req: FastifyRequest, access: Access): boolean {
  return can(req, access) && (ctx.config.auth.allowRemoteAdmin || isLocal(req));
}

/**
 * The escalation guard (§4): granting `rules` requires holding every one of them (in the
 * caller's effective rights: its subject's, narrowed by its token), unless the caller holds
 * `bypass` (bind to attach, escalate to write rules) on policies. Minting a token has no bypass.
 */
export function guardGrant(ctx: Ctx, req: FastifyRequest, rules: Rule[], bypass: 'bind' | 'escalate' | null, what: string): void {
  const missing = missingGrant(req, rules, bypass);
  if (missing.length === 0) return;
  refuseGrant(ctx, req, missing, bypass, what);
}

/** The rules of `rules` the caller does not hold (none when it holds `bypass` on policies). */
export function missingGrant(req: FastifyRequest, rules: Rule[], bypass: 'bind' | 'escalate' | null): Rule[] {
  const p = principalOf(req);
  if (bypass && holds(p.holdings, { verb: bypass, resource: 'policies' })) return [];
  return missingRules(p.holdings, rules);
}

export function refuseGrant(ctx: Ctx, req: FastifyRequest, missing: Rule[], bypass: 'bind' | 'escalate' | null, what: string): never {
  const p = principalOf(req);
  const message = `${describeSubject(p)} may not ${what}: it grants rules the caller does not hold: ${missing
    .map(describeRule)
    .join('; ')}${bypass ? ` (holding "${bypass}" on "policies" allows it)` : ''}`;
  audit(ctx, req, { action: bypass ?? 'create', resource: bypass ? 'policies' : 'tokens', outcome: 'denied', message });
  throw forbidden(message, { missingRules: missing });
}

/**
 * Runs a change that may take the `root` policy from someone (inside transaction `tx`); refused when
 * nobody would hold it afterwards, so the cluster can never lock itself out of administration.
 */
export async function keepingRoot<T>(tx: Store, change: () => Promise<T>): Promise<T> {
  const before = await tx.subjects.holderCount('root');
  const result = await change();
  if (before > 0 && (await tx.subjects.holderCount('root')) === 0) {
    throw conflict('refused: this would leave no subject holding the "root" policy; attach root to another user first (runed reset-bootstrap on the host is the way back if root is lost)', {
      reason: 'last_root',
    });
  }
  return result;
}

/** The policy document limits this daemon is configured with. */
export const policyLimits = (ctx: Ctx): PolicyLimits => ({ bytes: ctx.config.limits.policyBytes, rules: ctx.config.limits.policyRules, issues: 50 });

/** The fastify instance routes are declared on: request types come from the route's schemas. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;
