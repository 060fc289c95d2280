import type { Rule } from './policy.js';

/** Shapes on the wire (§2, §6a): camelCase, times as ISO-8601 strings. */

export type SubjectType = 'user' | 'service';
export type TokenStatus = 'active' | 'expired' | 'disabled' | 'revoked';
export type TokenKind = 'session' | 'derived';

export interface User {
  id: string;
  name: string;
  email?: string;
  policies: string[];
  createdAt: string;
  updatedAt: string;
}

export interface ServiceAccount {
  id: string;
  name: string;
  /** The namespace its permissions are pinned to; absent = cluster-wide. */
  namespace?: string;
  permissions: string[];
  description: string;
  policies: string[];
  createdAt: string;
  updatedAt: string;
}

export interface Policy {
  name: string;
  description: string;
  rules: Rule[];
  builtin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Token {
  id: string;
  name: string;
  subjectId: string;
  subjectName: string;
  subjectType: SubjectType;
  policies: string[];
  description: string;
  kind: TokenKind;
  createdAt: string;
  expiresAt?: string;
  enabled: boolean;
  revokedAt?: string;
  lastUsedAt?: string;
  status: TokenStatus;
}

export interface Namespace {
  name: string;
  createdAt: string;
}

export interface List<T> {
  items: T[];
  nextCursor?: string;
  /** How many rows match, on a first page (no cursor); with `totalCapped` it is a lower bound. */
  total?: number;
  totalCapped?: boolean;
}

export interface CreatedToken {
  token: Token;
  /** The bearer string, shown exactly once. */
  secret: string;
  /** Policies that were attached to the subject because the token named them (seed: "attached if missing"). */
  attached?: string[];
}

export interface Whoami {
  subject: { id: string; name: string; type: SubjectType; email?: string };
  token: { id: string; name: string; expiresAt?: string; policies?: string[] };
  policies: string[];
  rules: Rule[];
  /** Present when the token narrows its subject's rights: effective rights are both sets' intersection. */
  tokenRules?: Rule[];
  /** The daemon's token lifetime settings, when set (auth.tokenMaxTtl / auth.tokenDefaultTtl), e.g. "90d". */
  limits?: { tokenMaxTtl?: string; tokenDefaultTtl?: string };
}

export interface LintResponse {
  valid: boolean;
  errors: { line?: number; column?: number; path: string; message: string }[];
  warnings: { line?: number; column?: number; path: string; message: string }[];
}

export type RegistryType = 'docker' | 'ecr';

/** The password is write-only: it never leaves the daemon in this shape. */
export interface Registry {
  name: string;
  server: string;
  type: RegistryType;
  username?: string;
  region?: string;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
}

export type Outcome = 'success' | 'denied' | 'error';

export interface AuditRecord {
  id: number;
  time: string;
  actor?: { name: string; type: string; tokenId?: string };
  action: string;
  resource: string;
  ref?: string;
  namespace?: string;
  outcome: Outcome;
  message: string;
  remoteAddr?: string;
  prevHash: string;
  hash: string;
}
