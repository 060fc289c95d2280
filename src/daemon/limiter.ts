import { isIPv4 } from 'node:net';

/**
 * The key failures are counted under: an IPv4 /24 or an IPv6 /64, so that rotating through the
 * addresses of one network (or loopback aliases) does not reset the count.
 */
export function addressBlock(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1]! : address;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!address.includes(':')) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Counts failed authentications per address block in a fixed window, plus all failures per second
 * across every address. A block at its limit, or any caller while the global ceiling is reached,
 * gets 429 for a failed authentication; a token that verifies is never refused by this limiter.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, Window>();
  private global: Window = { count: 0, resetAt: 0 };

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly globalPerSecond: number,
    private readonly maxTracked = 100_000,
  ) {}

  /** Seconds until a failure from `address` is answered with 401 again, or 0 when it is not blocked. */
  retryAfter(address: string, now = Date.now()): number {
    if (this.global.resetAt > now && this.global.count >= this.globalPerSecond) return Math.max(1, Math.ceil((this.global.resetAt - now) / 1000));
    const w = this.windows.get(addressBlock(address));
    if (!w || w.resetAt <= now) return 0;
    return w.count >= this.limit ? Math.ceil((w.resetAt - now) / 1000) : 0;
  }

  recordFailure(address: string, now = Date.now()): void {
    if (this.global.resetAt <= now) this.global = { count: 0, resetAt: now + 1000 };
    this.global.count++;
    const key = addressBlock(address);
    const w = this.windows.get(key);
    if (w && w.resetAt > now) {
      w.count++;
      return;
    }
    this.windows.delete(key);
    if (this.windows.size >= this.maxTracked) this.sweep(now);
    // Still full of live windows: forget the oldest, so memory stays bounded whatever the traffic.
    if (this.windows.size >= this.maxTracked) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
  }

  get tracked(): number {
    return this.windows.size;
  }

  sweep(now = Date.now()): void {
    for (const [key, w] of this.windows) if (w.resetAt <= now) this.windows.delete(key);
  }
}
