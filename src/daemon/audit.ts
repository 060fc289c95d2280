import type { FastifyBaseLogger } from 'fastify';

export type Outcome = 'success' | 'denied' | 'error';

export interface AuditEvent {
  actor?: { name: string; type: string; tokenId?: string };
  action: string;
  resource: string;
  ref?: string;
  namespace?: string;
  outcome: Outcome;
  message?: string;
  remoteAddr?: string;
}

/**
 * Where admin actions and failed or denied requests are recorded. Events never carry a secret.
 * For now they are structured lines in the daemon's log (`"audit": true`); the hash-chained audit
 * table and `GET /v1/audit` replace this sink without changing its callers.
 */
export interface AuditSink {
  record(event: AuditEvent): void;
}

export class LogAuditSink implements AuditSink {
  constructor(private readonly log: FastifyBaseLogger) {}

  record(event: AuditEvent): void {
    this.log.info({ audit: true, ...event }, `audit: ${event.action} ${event.resource}${event.ref ? ` ${event.ref}` : ''} ${event.outcome}`);
  }
}
