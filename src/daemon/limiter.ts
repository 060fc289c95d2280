/**
 * Counts failed authentications per remote address in a fixed window. Once an address reaches the
 * limit, every authenticated call from it answers 429 until its window ends.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxTracked = 100_000,
  ) {}

  /** Seconds until the address may try again, or 0 when it is not blocked. */
  retryAfter(address: string, now = Date.now()): number {
    const w = this.windows.get(address);
    if (!w) return 0;
    if (w.resetAt <= now) {
      this.windows.delete(address);
      return 0;
    }
    return w.count >= this.limit ? Math.ceil((w.resetAt - now) / 1000) : 0;
  }

  recordFailure(address: string, now = Date.now()): void {
    const w = this.windows.get(address);
    if (w && w.resetAt > now) {
      w.count++;
      return;
    }
    if (this.windows.size >= this.maxTracked) this.sweep(now);
    this.windows.set(address, { count: 1, resetAt: now + this.windowMs });
  }

  sweep(now = Date.now()): void {
    for (const [address, w] of this.windows) if (w.resetAt <= now) this.windows.delete(address);
  }
}
