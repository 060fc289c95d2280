import type { FastifyReply } from 'fastify';

/** Where the cache reads the store's write generation (bumped by every write, here or, later, by another replica). */
export interface Generational {
  readonly generation: number;
  /** False while another replica's write could go unseen: nothing is served from memory then. */
  readonly cacheable?: boolean;
}

export interface PageCacheLimits {
  entries: number;
  bytes: number;
  /** The longest a page is served from memory: lastUsedAt is recorded at most once a second anyway. */
  maxAgeMs: number;
}

export const PAGE_CACHE_LIMITS: PageCacheLimits = { entries: 256, bytes: 8 * 1024 * 1024, maxAgeMs: 1000 };

interface Entry {
  body: Buffer;
  until: number;
  /** When it was last served, on the cache's own clock: the least recently used goes first. */
  used: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Serialised list pages, kept while nothing was written since and for at most maxAgeMs. Keys are
 * built by the route and must name the caller (its token id) and everything that decides what it
 * sees; the cache itself knows nothing of visibility. Least recently used entries go first.
 */
export class PageCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private clock = 0;
  private generation: number;

  constructor(
    private readonly store: Generational,
    private readonly limits: PageCacheLimits = PAGE_CACHE_LIMITS,
  ) {
    this.generation = store.generation;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Sends the page for `key`: from memory while still valid, else `compute`s it, serialises it with
   * the route's response schema (the allow-list) and keeps the bytes until `expiresAt(page)` (the
   * next time the page's content changes by itself, a token's expiry) or maxAgeMs, whichever is first.
   */
  async send<T>(reply: FastifyReply, key: string, compute: () => T | Promise<T>, nextChange: (page: T, now: number) => number): Promise<FastifyReply> {
    const now = Date.now();
    this.dropIfWritten();
    if (this.store.cacheable === false) {
      this.clear();
      return reply.type(JSON_TYPE).send(Buffer.from(reply.serialize(await compute()) as string));
    }
    const hit = this.entries.get(key);
    if (hit && now < hit.until) {
      // Stamped, not re-inserted: a hit costs no change to the map.
      hit.used = ++this.clock;
      return reply.type(JSON_TYPE).send(hit.body);
    }
    if (hit) this.remove(key, hit);
    // Read before the page: a write landing while it is computed makes it stale at once.
    const generation = this.store.generation;
    const page = await compute();
    const body = Buffer.from(reply.serialize(page) as string);
    const until = Math.min(now + this.limits.maxAgeMs, nextChange(page, now));
    if (generation === this.store.generation && until > now) this.put(key, { body, until, used: ++this.clock }, generation);
    return reply.type(JSON_TYPE).send(body);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private dropIfWritten(): void {
    if (this.store.generation === this.generation) return;
    this.clear();
    this.generation = this.store.generation;
  }

  private put(key: string, entry: Entry, generation: number): void {
    this.dropIfWritten();
    if (generation !== this.generation || entry.body.length > this.limits.bytes) return;
    const existing = this.entries.get(key);
    if (existing) this.remove(key, existing);
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    while (this.entries.size > this.limits.entries || this.bytes > this.limits.bytes) this.evictLeastRecent();
  }

  /** A scan of at most `limits.entries` pages, and only when one is added to a full cache. */
  private evictLeastRecent(): void {
    let oldest: [string, Entry] | undefined;
    for (const pair of this.entries) if (!oldest || pair[1].used < oldest[1].used) oldest = pair;
    if (oldest) this.remove(oldest[0], oldest[1]);
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.bytes -= entry.body.length;
  }
}

/** The earliest expiry after `now` among items with an ISO `expiresAt`, or Infinity. */
export function nextExpiry(items: readonly { expiresAt?: string | null | undefined }[], now: number): number {
  let next = Infinity;
  for (const item of items) {
    if (!item.expiresAt) continue;
    const at = Date.parse(item.expiresAt);
    if (at > now && at < next) next = at;
  }
  return next;
}
