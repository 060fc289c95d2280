import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { RuneError } from '../core/errors.js';
import { MAX_TTL_MS } from '../core/duration.js';
import { claimMatches } from '../core/trusts.js';
import { isLoopback } from './net.js';

/** Which check refused an exchange; each has its own 401 message and audit reason. */
export type ExchangeCheck = 'malformed' | 'trust' | 'issuer' | 'algorithm' | 'signature' | 'audience' | 'expired' | 'not_yet_valid' | 'claim' | 'replay';

export class ExchangeRefused extends Error {
  constructor(
    readonly check: ExchangeCheck,
    message: string,
    /** For the audit trail only (the claim's presented value, say): never sent to the caller. */
    readonly detail?: string,
  ) {
    super(message);
  }
}

/** Asymmetric only: HS* would let anyone holding the issuer's public key sign, and `none` anyone at all. */
export const ALLOWED_ALGORITHMS = ['RS256', 'ES256'];
const CLOCK_SKEW_S = 60;
const KEYS_MAX_AGE_MS = 10 * 60_000;
const UNKNOWN_KID_REFRESH_MS = 60_000;
/** After a failed fetch, requests do not hammer the issuer: they fail at once for this long. */
const FAILED_FETCH_HOLD_MS = 10_000;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_DOCUMENT_BYTES = 512 * 1024;
export const MAX_JWT_BYTES = 16 * 1024;

const isLoopbackHost = (url: URL) => url.hostname === 'localhost' || isLoopback(url.hostname.replace(/^\[|\]$/g, ''));

/** Why `issuer` cannot be a trust's issuer, or undefined: HTTPS, or plain HTTP on loopback only. */
export function issuerUrlProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'is not a URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.search || url.hash) return 'must not have a query or a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url)) return undefined;
  return 'must be an https:// URL (plain http:// only for an issuer on loopback)';
}

interface IssuerKeys {
  keyset: ReturnType<typeof createLocalJWKSet>;
  fetchedAt: number;
}

interface IssuerEntry {
  keys?: IssuerKeys;
  pending?: Promise<IssuerKeys>;
  failedAt?: number;
  failure?: string;
  lastUnknownKidRefresh: number;
}

const unavailable = (issuer: string, why: string) =>
  new RuneError('unavailable', `could not fetch the signing keys of issuer ${issuer}: ${why}; retry shortly`, { reason: 'issuer_keys_unavailable' });

/**
 * Each issuer's JWKS, found through its discovery document: kept for ten minutes, refreshed at
 * once for a key id it does not know, but such refreshes at most once a minute per issuer, so a
 * stream of made-up key ids cannot turn runed into a load generator against the issuer.
 */
export class IssuerKeyCache {
  private readonly entries = new Map<string, IssuerEntry>();

  constructor(private readonly onFetch: (issuer: string, url: string) => void = () => {}) {}

  private entry(issuer: string): IssuerEntry {
    let e = this.entries.get(issuer);
    if (!e) {
      e = { lastUnknownKidRefresh: 0 };
      this.entries.set(issuer, e);
    }
    return e;
  }

  async keysFor(issuer: string, now = Date.now()): Promise<IssuerKeys> {
    const e = this.entry(issuer);
    if (e.keys && now - e.keys.fetchedAt < KEYS_MAX_AGE_MS) return e.keys;
    return this.fetch(issuer, e, now);
  }

  /** New keys after a token named an unknown key id, or undefined when the last such refresh was under a minute ago. */
  async refreshForUnknownKid(issuer: string, now = Date.now()): Promise<IssuerKeys | undefined> {
    const e = this.entry(issuer);
    if (now - e.lastUnknownKidRefresh < UNKNOWN_KID_REFRESH_MS) return undefined;
    e.lastUnknownKidRefresh = now;
    return this.fetch(issuer, e, now, true);
  }

  private fetch(issuer: string, e: IssuerEntry, now: number, force = false): Promise<IssuerKeys> {
    if (e.pending) return e.pending;
    if (!force && e.failedAt !== undefined && now - e.failedAt < FAILED_FETCH_HOLD_MS) {
      // Stale keys beat none while the issuer is unreachable.
      return e.keys ? Promise.resolve(e.keys) : Promise.reject(unavailable(issuer, e.failure ?? 'the last attempt failed'));
    }
    e.pending = this.download(issuer)
      .then((keyset) => {
        e.keys = { keyset, fetchedAt: Date.now() };
        delete e.failedAt;
        return e.keys;
      })
      .catch((err: unknown) => {
        e.failedAt = Date.now();
        e.failure = (err as Error).message;
        if (e.keys && !force) return e.keys;
        throw unavailable(issuer, e.failure);
      })
      .finally(() => delete e.pending);
    return e.pending;
  }

  private async download(issuer: string): Promise<ReturnType<typeof createLocalJWKSet>> {
    const discoveryUrl = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const discovery = (await this.getJson(issuer, discoveryUrl, 'discovery document')) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery: the document must name exactly the issuer it was fetched for.
    if (discovery.issuer !== issuer) throw new Error('its discovery document names another issuer');
    if (typeof discovery.jwks_uri !== 'string') throw new Error('its discovery document has no jwks_uri');
    let jwksUrl: URL;
    try {
      jwksUrl = new URL(discovery.jwks_uri);
    } catch {
      throw new Error('its jwks_uri is not a URL');
    }
    const plainAllowed = new URL(issuer).protocol === 'http:' && isLoopbackHost(jwksUrl);
    if (jwksUrl.protocol !== 'https:' && !(jwksUrl.protocol === 'http:' && plainAllowed)) throw new Error('its jwks_uri is not https://');
    const jwks = (await this.getJson(issuer, jwksUrl.href, 'JWKS')) as JSONWebKeySet;
    try {
      return createLocalJWKSet(jwks);
    } catch {
      throw new Error('its JWKS is not a valid key set');
    }
  }

  private async getJson(issuer: string, url: string, what: string): Promise<unknown> {
    this.onFetch(issuer, url);
    let res: Response;
    try {
      // A redirect could downgrade to plain HTTP or leave the issuer's host: refused.
      res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { accept: 'application/json' } });
    } catch (err) {
      throw new Error(`${what} ${url} could not be fetched (${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message})`);
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`${what} ${url} answered HTTP ${res.status}`);
    }
    const text = await readCapped(res, MAX_DOCUMENT_BYTES, `${what} ${url}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`${what} ${url} is not JSON`);
    }
  }
}

/** The body as text, read only up to `max` bytes: a larger one is cut off, not held in memory. */
async function readCapped(res: Response, max: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > max) {
    await res.body?.cancel();
    throw new Error(`${what} is larger than ${max} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (err) {
        throw new Error(`${what} could not be read (${(err as Error).message})`);
      }
      if (next.done) break;
      size += next.value.byteLength;
      if (size > max) {
        await reader.cancel();
        throw new Error(`${what} is larger than ${max} bytes`);
      }
      chunks.push(next.value);
    }
  }
  // As res.text() would: UTF-8, a leading byte-order mark dropped.
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export interface TrustBinding {
  issuer: string;
  audience: string;
  claims: Record<string, string>;
  allowGlob: boolean;
}

export interface VerifiedJwt {
  payload: JWTPayload;
  /** What the replay memory keeps: a hash of issuer + jti, or of the whole token when it has no jti. */
  replayKey: string;
  expiresAt: number;
}

/** A header value safe to name in a message: short and plain, or nothing. */
const plain = (value: unknown) => (typeof value === 'string' && /^[A-Za-z0-9_-]{1,16}$/.test(value) ? `"${value}"` : 'another');

/**
 * Verifies a CI job's JWT against a trust: issuer, algorithm, signature (keys from the issuer's
 * JWKS), audience, expiry and not-before with 60 s of skew, then every bound claim. Throws
 * ExchangeRefused naming the failed check; the token itself is never part of a message.
 */
export async function verifyForTrust(keys: IssuerKeyCache, trust: TrustBinding, jwt: string): Promise<VerifiedJwt> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: JWTPayload;
  try {
    header = decodeProtectedHeader(jwt);
    unverified = decodeJwt(jwt);
  } catch {
    throw new ExchangeRefused('malformed', 'the jwt is not a signed JWT (header.payload.signature)');
  }
  if (unverified.iss !== trust.issuer) {
    throw new ExchangeRefused('issuer', "the token's issuer is not the trust's issuer", `iss ${String(unverified.iss).slice(0, 200)}`);
  }
  if (typeof header.alg !== 'string' || !ALLOWED_ALGORITHMS.includes(header.alg)) {
    throw new ExchangeRefused('algorithm', `the token is signed with ${plain(header.alg)} algorithm: only ${ALLOWED_ALGORITHMS.join(' and ')} are accepted`);
  }

  const options = { algorithms: ALLOWED_ALGORITHMS, issuer: trust.issuer, audience: trust.audience, clockTolerance: CLOCK_SKEW_S, requiredClaims: ['exp'] };
  let payload: JWTPayload;
  try {
    try {
      payload = (await jwtVerify(jwt, (await keys.keysFor(trust.issuer)).keyset, options)).payload;
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // The issuer may have rotated its keys since they were fetched.
      const fresh = await keys.refreshForUnknownKid(trust.issuer);
      if (!fresh) throw err;
      payload = (await jwtVerify(jwt, fresh.keyset, options)).payload;
    }
  } catch (err) {
    throw refusalFor(err);
  }

  for (const [claim, bound] of Object.entries(trust.claims)) {
    // The token's own claims only: "toString" or "constructor" absent from it is absent, not inherited.
    const value = Object.hasOwn(payload, claim) ? payload[claim] : undefined;
    if (!claimMatches(bound, value, trust.allowGlob)) {
      const presented = value === undefined ? 'absent' : (JSON.stringify(value) ?? typeof value).slice(0, 200);
      throw new ExchangeRefused('claim', `claim "${claim}" of the token does not match the trust`, `${claim} ${presented}`);
    }
  }
  const replayKey = createHash('sha256').update(typeof payload.jti === 'string' && payload.jti !== '' ? `${trust.issuer}\njti\n${payload.jti}` : `jwt\n${jwt}`).digest('hex');
  // Remembered (against replay) while the token is valid: whole milliseconds, and never past the
  // longest TTL, whatever exp says (a fraction or 1e300 would not fit the BIGINT column).
  const expiresAt = Math.min(Math.ceil(payload.exp! + CLOCK_SKEW_S) * 1000, Date.now() + MAX_TTL_MS);
  return { payload, replayKey, expiresAt };
}

function refusalFor(err: unknown): Error {
  if (err instanceof RuneError) return err;
  if (err instanceof errors.JWTExpired) return new ExchangeRefused('expired', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case 'nbf':
        return new ExchangeRefused('not_yet_valid', 'the token is not valid yet (nbf)');
      case 'iat':
        return new ExchangeRefused('not_yet_valid', 'the token was issued in the future (iat)');
      case 'aud':
        return new ExchangeRefused('audience', "the token's audience is not the trust's audience");
      case 'iss':
        return new ExchangeRefused('issuer', "the token's issuer is not the trust's issuer");
      case 'exp':
        return new ExchangeRefused('expired', 'the token carries no valid expiry (exp)');
      default:
        return new ExchangeRefused('malformed', `the token's claim "${err.claim}" is invalid`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new ExchangeRefused('algorithm', `only ${ALLOWED_ALGORITHMS.join(' and ')} signatures are accepted`);
  if (err instanceof errors.JWKSNoMatchingKey) return new ExchangeRefused('signature', "no key of the issuer matches the token's key id (kid)");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new ExchangeRefused('signature', 'the signature does not verify with the issuer\'s keys');
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return new ExchangeRefused('malformed', 'the jwt is not a valid signed JWT');
  if (err instanceof errors.JOSEError) return new ExchangeRefused('signature', 'the signature cannot be verified with the issuer\'s keys');
  return err as Error;
}
