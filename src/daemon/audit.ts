import type { FastifyBaseLogger } from 'fastify';
import type { AuditEvent, AuditLog } from './store/audit.js';

export type { AuditEvent, Outcome } from './store/audit.js';

/** Where admin actions and failed or denied requests are recorded. Events never carry a secret. */
export interface AuditSink {
  record(event: AuditEvent): void;
}

/** Appends to the hash-chained audit table; a failed append is logged, never thrown at the caller. */
export class StoreAuditSink implements AuditSink {
  constructor(
    private readonly log: AuditLog,
    private readonly logger: FastifyBaseLogger,
  ) {}

  record(event: AuditEvent): void {
    try {
      this.log.append(event);
    } catch (err) {
      this.logger.error({ err, audit: { action: event.action, resource: event.resource, outcome: event.outcome } }, 'could not write the audit event');
    }
  }
}
