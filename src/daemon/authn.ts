import { parseToken } from '../core/tokenFormat.js';
import type { Holdings } from '../core/rbac.js';
import type { Rule } from '../core/policy.js';
import { verifySecret } from './crypto.js';
import type { Store } from './store/index.js';
import type { SubjectRow } from './store/subjects.js';
import { tokenStatus, type TokenRow } from './store/tokens.js';

/** Who is calling, resolved from a valid bearer token. */
export interface Principal {
  subject: SubjectRow;
  token: TokenRow;
  /** The subject's attached policies with their rules. */
  policies: { name: string; rules: Rule[] }[];
  /** The token's own policies when it narrows its subject (§4), else undefined. */
  tokenPolicies?: { name: string; rules: Rule[] }[];
  holdings: Holdings;
}

/** `rotated`: the secret a rotation replaced, after its grace period ended. */
export type AuthFailure = 'missing' | 'malformed' | 'bad_checksum' | 'unknown' | 'bad_secret' | 'rotated' | 'expired' | 'disabled' | 'revoked' | 'no_subject';

/** `previousSecret`: authenticated with the secret a rotation replaced, inside its grace period. */
export type AuthResult = { ok: true; principal: Principal; previousSecret?: { until: number } } | { ok: false; reason: AuthFailure; tokenId?: string };

type Refusal = Extract<AuthResult, { ok: false }>;
/** How a presented secret checked out: refused, or valid (through the replaced secret, with its grace end). */
type Checked = Refusal | { ok: true; previousSecret?: { until: number } };

const LAST_USED_INTERVAL_MS = 1000;
const CACHE_LIMIT = 50_000;

interface Cached {
  token: TokenRow;
  subject: SubjectRow;
  principal: Principal;
}

/**
 * Bearer token → principal. Lookups are by primary key (O(1)); resolved principals are cached per
 * token id and the whole cache is dropped whenever the store commits a write (revocation, policy
 * change, …), so a change is seen by the very next request. Expiry is checked on every request.
 */
export class Authenticator {
  private readonly lastUsedWrites = new Map<string, number>();
  private readonly pendingTouches = new Map<string, number>();
  private readonly cache = new Map<string, Cached>();
  private cacheGeneration = -1;

  constructor(
    private readonly store: Store,
    private readonly serverKey: Buffer,
    private readonly onTouchError: (err: unknown) => void,
  ) {}

  /** A cached principal is answered at once; only a cache miss reads the store (and returns a promise). */
  authenticate(header: string | undefined, now = Date.now()): AuthResult | Promise<AuthResult> {
    if (!header) return { ok: false, reason: 'missing' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { ok: false, reason: 'malformed' };
    const parsed = parseToken(m[1]!);
    if (!parsed.ok) return parsed.id ? { ok: false, reason: parsed.reason, tokenId: parsed.id } : { ok: false, reason: parsed.reason };

    if (this.cacheGeneration !== this.store.generation) {
      this.cache.clear();
      this.cacheGeneration = this.store.generation;
    }
    // A replica that may have missed another's revocation answers from the database or not at all.
    const cached = this.store.cacheable ? this.cache.get(parsed.id) : undefined;
    if (!cached) return this.resolve(parsed.id, parsed.secret, now);
    const checked = this.check(cached.token, parsed.secret, now);
    return checked.ok ? this.accept(cached, now, checked) : checked;
  }

  /** Whether `token` presented with `secret` is valid now: its secret, or the one a rotation replaced within its grace. */
  private check(token: TokenRow, secret: string, now: number): Checked {
    let previousSecret: { until: number } | undefined;
    if (!verifySecret(this.serverKey, token.id, secret, token.secret_hash)) {
      if (token.prev_secret_hash === null || !verifySecret(this.serverKey, token.id, secret, token.prev_secret_hash)) {
        return { ok: false, reason: 'bad_secret', tokenId: token.id };
      }
      // The grace period is a time, checked on every request: no cache can stretch it.
      if (token.prev_secret_until === null || token.prev_secret_until <= now) return { ok: false, reason: 'rotated', tokenId: token.id };
      previousSecret = { until: token.prev_secret_until };
    }
    const status = tokenStatus(token, now);
    if (status !== 'active') return { ok: false, reason: status, tokenId: token.id };
    return previousSecret ? { ok: true, previousSecret } : { ok: true };
  }

  private accept(cached: Cached, now: number, checked: { previousSecret?: { until: number } }): AuthResult {
    this.touch(cached.token.id, now);
    return checked.previousSecret ? { ok: true, principal: cached.principal, previousSecret: checked.previousSecret } : { ok: true, principal: cached.principal };
  }

  private async resolve(id: string, secret: string, now: number): Promise<AuthResult> {
    // What was read belongs to this generation: a write committed meanwhile must not be cached over.
    const generation = this.store.generation;
    const token = await this.store.tokens.get(id);
    if (!token) return { ok: false, reason: 'unknown', tokenId: id };
    const checked = this.check(token, secret, now);
    if (!checked.ok) return checked;
    const subject = await this.store.subjects.getById(token.subject_id);
    if (!subject) return { ok: false, reason: 'no_subject', tokenId: token.id };
    const cached: Cached = { token, subject, principal: await this.principalFor(subject, token) };
    if (generation === this.store.generation && this.cacheGeneration === generation && this.store.cacheable) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token.id, cached);
    }
    return this.accept(cached, now, checked);
  }

  async principalFor(subject: SubjectRow, token: TokenRow): Promise<Principal> {
    const policies = await this.store.policies.rulesOfSubjectId(subject.id);
    const narrowing = JSON.parse(token.policies) as string[];
    const holdings: Holdings = { subject: policies.flatMap((p) => p.rules) };
    if (narrowing.length === 0) return { subject, token, policies, holdings };
    // A narrowing policy that no longer exists contributes nothing: the token fails closed.
    const tokenPolicies = await this.store.policies.rulesOf(narrowing);
    holdings.token = tokenPolicies.flatMap((p) => p.rules);
    return { subject, token, policies, tokenPolicies, holdings };
  }

  /**
   * lastUsedAt, recorded at most once a second per token and written in one batch by flushLastUsed
   * (one commit for all tokens, not one fsync per request); a failed write never fails a request.
   */
  private touch(id: string, now: number): void {
    const last = this.lastUsedWrites.get(id);
    if (last !== undefined && now - last < LAST_USED_INTERVAL_MS) return;
    this.lastUsedWrites.set(id, now);
    this.pendingTouches.set(id, now);
  }

  async flushLastUsed(): Promise<void> {
    if (this.pendingTouches.size === 0) return;
    const batch = [...this.pendingTouches];
    this.pendingTouches.clear();
    try {
      await this.store.touchTokens(batch);
    } catch (err) {
      this.onTouchError(err);
    }
  }

  sweep(now = Date.now()): void {
    for (const [id, at] of this.lastUsedWrites) if (now - at >= LAST_USED_INTERVAL_MS) this.lastUsedWrites.delete(id);
  }
}
