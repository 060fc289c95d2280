import type { FastifyBaseLogger } from 'fastify';
import type { AuditEvent, AuditLog } from './store/audit.js';

export type { AuditEvent, Outcome } from './store/audit.js';

/** Where admin actions and failed or denied requests are recorded. Events never carry a secret. */
export interface AuditSink {
  /** Starts recording; never throws. */
  record(event: AuditEvent): void;
  /** Resolves when every record started so far is written (or has failed and been logged). */
  idle(): Promise<void>;
}

/** Appends to the hash-chained audit table; a failed append is logged, never thrown at the caller. */
export class StoreAuditSink implements AuditSink {
  constructor(
    private readonly log: AuditLog,
    private readonly logger: FastifyBaseLogger,
  ) {}

  private readonly pending = new Set<Promise<void>>();

  record(event: AuditEvent): void {
    const written = this.log.append(event).catch((err: unknown) => {
      this.logger.error({ err, audit: { action: event.action, resource: event.resource, outcome: event.outcome } }, 'could not write the audit event');
    });
    this.pending.add(written);
    void written.finally(() => this.pending.delete(written));
  }

  async idle(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
