import { invalid } from '../core/errors.js';
import { formatDuration, parseTtl } from '../core/duration.js';
import { mintToken } from '../core/tokenFormat.js';
import type { TokenKind } from '../core/wire.js';
import type { DaemonConfig } from './config.js';
import { hashSecret } from './crypto.js';
import type { Store } from './store/index.js';
import type { SubjectRow } from './store/subjects.js';
import type { TokenRow } from './store/tokens.js';

/**
 * A token's lifetime in ms, or null for none: the given TTL, else auth.tokenDefaultTtl, else
 * auth.tokenMaxTtl (Rancher's rule), else no expiry (rune's rule). Above the max is refused.
 */
export function resolveTtl(config: DaemonConfig, ttl: unknown): number | null {
  const { tokenDefaultTtl, tokenMaxTtl } = config.auth;
  if (ttl === undefined || ttl === null) return tokenDefaultTtl ?? tokenMaxTtl ?? null;
  const ms = parseTtl(ttl);
  checkMaxTtl(config, ms);
  return ms;
}

export function checkMaxTtl(config: DaemonConfig, ms: number): void {
  const max = config.auth.tokenMaxTtl;
  if (max !== undefined && ms > max) {
    throw invalid(`ttl ${formatDuration(ms)} is longer than the maximum of ${formatDuration(max)} (auth.tokenMaxTtl)`, {
      field: 'ttl',
      max: formatDuration(max),
    });
  }
}

export interface IssueRequest {
  subject: SubjectRow;
  name: string;
  policies: string[];
  ttlMs: number | null;
  description: string;
  kind: TokenKind;
  now: number;
  /** The token whose holder minted this one (none for bootstrap and OIDC exchanges). */
  createdBy?: string;
}

/** Writes a new token row (only the keyed hash of its secret) and returns the bearer string once; `store` is a transaction's. */
export async function issueToken(store: Store, serverKey: Buffer, req: IssueRequest): Promise<{ row: TokenRow; bearer: string }> {
  const minted = mintToken();
  const row: TokenRow = {
    id: minted.id,
    name: req.name,
    subject_id: req.subject.id,
    subject_name: req.subject.name,
    subject_type: req.subject.type,
    policies: JSON.stringify(req.policies),
    description: req.description,
    kind: req.kind,
    secret_hash: hashSecret(serverKey, minted.id, minted.secret),
    created_at: req.now,
    expires_at: req.ttlMs === null ? null : req.now + req.ttlMs,
    enabled: 1,
    revoked_at: null,
    last_used_at: null,
    disabled_by: null,
    created_by: req.createdBy ?? null,
    prev_secret_hash: null,
    prev_secret_until: null,
  };
  await store.tokens.insert(row);
  return { row, bearer: minted.bearer };
}
