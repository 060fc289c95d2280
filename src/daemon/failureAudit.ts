import type { AuditEvent } from './audit.js';
import { addressBlock } from './limiter.js';

interface Tally {
  block: string;
  reason: string;
  first: number;
  endsAt: number;
  /** Failures after the first one, which are summarised instead of written one by one. */
  more: number;
}

/**
 * Keeps repeated failed authentications from flooding the audit trail: the first failure of a
 * kind (reason) from an address block in a window is recorded as it is; the rest become one
 * summary event with their count when the window ends.
 */
export class FailureAudit {
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly record: (event: AuditEvent) => void,
    private readonly windowMs: number,
    private readonly maxTracked = 10_000,
  ) {}

  /** Counts a failure; true when it is the first of its kind in its window and must be recorded in full. */
  note(address: string, reason: string, now = Date.now()): boolean {
    const block = addressBlock(address);
    const key = `${block} ${reason}`;
    const tally = this.tallies.get(key);
    if (tally && tally.endsAt > now) {
      tally.more++;
      return false;
    }
    if (tally) this.end(key, tally);
    if (this.tallies.size >= this.maxTracked) this.flush(now);
    if (this.tallies.size >= this.maxTracked) {
      const [oldest, t] = this.tallies.entries().next().value!;
      this.end(oldest, t);
    }
    this.tallies.set(key, { block, reason, first: now, endsAt: now + this.windowMs, more: 0 });
    return true;
  }

  /** Writes the summaries of windows that have ended (of all of them with `all`). */
  flush(now = Date.now(), all = false): void {
    for (const [key, tally] of this.tallies) if (all || tally.endsAt <= now) this.end(key, tally);
  }

  private end(key: string, tally: Tally): void {
    this.tallies.delete(key);
    if (tally.more === 0) return;
    this.record({
      action: 'authenticate',
      resource: 'tokens',
      outcome: 'denied',
      remoteAddr: tally.block,
      message: `${tally.reason}: ${tally.more} more from ${tally.block} since ${new Date(tally.first).toISOString()}`,
    });
  }
}
