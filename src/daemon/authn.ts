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

export type AuthFailure = 'missing' | 'malformed' | 'bad_checksum' | 'unknown' | 'bad_secret' | 'expired' | 'disabled' | 'revoked' | 'no_subject';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: AuthFailure; tokenId?: string };

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

  authenticate(header: string | undefined, now = Date.now()): AuthResult {
    if (!header) return { ok: false, reason: 'missing' };
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return { ok: false, reason: 'malformed' };
    const parsed = parseToken(m[1]!);
    if (!parsed.ok) return parsed.id ? { ok: false, reason: parsed.reason, tokenId: parsed.id } : { ok: false, reason: parsed.reason };

    if (this.cacheGeneration !== this.store.generation) {
      this.cache.clear();
      this.cacheGeneration = this.store.generation;
    }
    let cached = this.cache.get(parsed.id);
    const token = cached?.token ?? this.store.tokens.get(parsed.id);
    if (!token) return { ok: false, reason: 'unknown', tokenId: parsed.id };
    if (!verifySecret(this.serverKey, token.id, parsed.secret, token.secret_hash)) {
      return { ok: false, reason: 'bad_secret', tokenId: token.id };
    }
    const status = tokenStatus(token, now);
    if (status !== 'active') return { ok: false, reason: status, tokenId: token.id };
    if (!cached) {
      const subject = this.store.subjects.getById(token.subject_id);
      if (!subject) return { ok: false, reason: 'no_subject', tokenId: token.id };
      cached = { token, subject, principal: this.principalFor(subject, token) };
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token.id, cached);
    }
    this.touch(token.id, now);
    return { ok: true, principal: cached.principal };
  }

  principalFor(subject: SubjectRow, token: TokenRow): Principal {
    const policies = this.store.policies.rulesOfSubjectId(subject.id);
    const narrowing = JSON.parse(token.policies) as string[];
    const holdings: Holdings = { subject: policies.flatMap((p) => p.rules) };
    if (narrowing.length === 0) return { subject, token, policies, holdings };
    // A narrowing policy that no longer exists contributes nothing: the token fails closed.
    const tokenPolicies = this.store.policies.rulesOf(narrowing);
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

  flushLastUsed(): void {
    if (this.pendingTouches.size === 0) return;
    const batch = [...this.pendingTouches];
    this.pendingTouches.clear();
    try {
      this.store.touchTokens(batch);
    } catch (err) {
      this.onTouchError(err);
    }
  }

  sweep(now = Date.now()): void {
    for (const [id, at] of this.lastUsedWrites) if (now - at >= LAST_USED_INTERVAL_MS) this.lastUsedWrites.delete(id);
  }
}
