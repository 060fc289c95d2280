import type { FastifyRequest } from 'fastify';
import { forbidden } from '../core/errors.js';
import type { Rule } from '../core/policy.js';
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
  }
}

export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) throw new Error(`route ${req.url} reached without authentication`);
  return req.principal;
}

/** The peer address of the connection itself; proxies' headers are never trusted. */
export const peerOf = (req: FastifyRequest): string | undefined => req.socket?.remoteAddress ?? undefined;

export const isLocal = (req: FastifyRequest) => isLoopback(peerOf(req));

export function describeSubject(p: Principal): string {
  return `${p.subject.type} ${p.subject.name}`;
}

const audited = new WeakSet<FastifyRequest>();
export const wasAudited = (req: FastifyRequest) => audited.has(req);

export function audit(ctx: Ctx, req: FastifyRequest, event: Omit<AuditEvent, 'actor' | 'remoteAddr'>): void {
  audited.add(req);
  const p = req.principal;
  const full: AuditEvent = { ...event };
  if (p) full.actor = { name: p.subject.name, type: p.subject.type, tokenId: p.token.id };
  const peer = peerOf(req);
  if (peer) full.remoteAddr = peer;
  ctx.audit.record(full);
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
 * The escalation guard (§4): granting `rules` requires holding every one of them, unless the
 * caller holds `bypass` (bind to attach, escalate to write rules) on policies.
 */
export function guardGrant(ctx: Ctx, req: FastifyRequest, rules: Rule[], bypass: 'bind' | 'escalate', what: string): void {
  const p = principalOf(req);
  if (holds(p.holdings, { verb: bypass, resource: 'policies' })) return;
  const missing = missingRules(p.holdings, rules);
  if (missing.length === 0) return;
  const message = `${describeSubject(p)} may not ${what}: it grants rules the caller does not hold: ${missing
    .map(describeRule)
    .join('; ')} (holding "${bypass}" on "policies" allows it)`;
  audit(ctx, req, { action: bypass, resource: 'policies', outcome: 'denied', message });
  throw forbidden(message, { missingRules: missing });
}
