import type { AuditEvent } from './audit.js';

interface Window {
  endsAt: number;
  /** Uses after the first one, recorded as one summary when the window ends. */
  more: number;
  event: AuditEvent;
}

/**
 * Uses of a secret a rotation replaced, so the operator sees who has not switched yet: the first
 * use of a token's old secret in a window (a second) is recorded at once, the rest of that window
 * as one event with their count, so a busy client cannot flood the audit trail.
 */
export class OldSecretAudit {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly record: (event: AuditEvent) => void,
    private readonly windowMs = 1000,
  ) {}

  note(tokenId: string, event: AuditEvent, now = Date.now()): void {
    const window = this.windows.get(tokenId);
    if (window && window.endsAt > now) {
      window.more++;
      return;
    }
    if (window) this.end(tokenId, window);
    this.record(event);
    this.windows.set(tokenId, { endsAt: now + this.windowMs, more: 0, event });
  }

  /** Writes the counts of windows that have ended (of all of them with `all`). */
  flush(now = Date.now(), all = false): void {
    for (const [id, window] of this.windows) if (all || window.endsAt <= now) this.end(id, window);
  }

  private end(tokenId: string, window: Window): void {
    this.windows.delete(tokenId);
    if (window.more === 0) return;
    this.record({ ...window.event, message: `${window.more} more use(s) of the replaced secret within ${this.windowMs / 1000}s of the last record` });
  }
}
