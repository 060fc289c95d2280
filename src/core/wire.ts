import type { Static } from 'typebox';
import type * as S from './schemas.js';

/**
 * Shapes on the wire (§2, §6a): camelCase, times as ISO-8601 strings. Derived from the schemas the
 * daemon validates and serialises with (core/schemas.ts); type-only, so the client never loads them.
 */

export type SubjectType = Static<typeof S.SubjectType>;
export type TokenStatus = Static<typeof S.TokenStatus>;
export type TokenKind = Static<typeof S.TokenKind>;
export type Outcome = Static<typeof S.Outcome>;
export type RegistryType = Static<typeof S.RegistryType>;

export type User = Static<typeof S.User>;
export type ServiceAccount = Static<typeof S.ServiceAccount>;
export type Policy = Static<typeof S.Policy>;
export type Token = Static<typeof S.Token>;
export type Namespace = Static<typeof S.Namespace>;
/** The password is write-only: it never leaves the daemon in this shape. */
export type Registry = Static<typeof S.Registry>;
export type AuditRecord = Static<typeof S.AuditRecord>;
export type CreatedToken = Static<typeof S.CreatedToken>;
/** What POST /v1/tokens/{id}/rotate answers: the new secret once, and when the old one stops working. */
export type RotatedToken = Static<typeof S.RotatedToken>;
/** What POST /v1/tokens/revoke and /v1/tokens/disable answer: the tokens changed (or, on a dry run, that would be). */
export type TokenBulkAnswer = Static<typeof S.TokenBulkAnswer>;
export type TokenBulkInput = Static<typeof S.TokenBulkBody>;
export type Whoami = Static<typeof S.Whoami>;
export type LintResponse = Static<typeof S.LintResponse>;
export type CheckAnswer = Static<typeof S.CheckAnswer>;
/** Who may do VERB on RESOURCE in NAMESPACE, with the rule that grants it. */
export type WhoCanAnswer = Static<typeof S.WhoCanAnswer>;
/** What saving a policy document would change: who gains and who loses which rights. */
export type PolicyImpact = Static<typeof S.PolicyImpact>;
export type CreatedServiceAccount = Static<typeof S.CreatedServiceAccount>;
export type ErrorBody = Static<typeof S.ErrorBody>;
/** Binds an OIDC issuer, an exact audience and claim values to a service account (CI without stored secrets). */
export type Trust = Static<typeof S.Trust>;
export type TrustInput = Static<typeof S.TrustBody>;
/** What POST /v1/auth/oidc/exchange answers: a token of the trust's service account, its secret once. */
export type ExchangedToken = Static<typeof S.ExchangedToken>;

export interface List<T> {
  items: T[];
  nextCursor?: string;
  /** How many rows match, on a first page (no cursor); with `totalCapped` it is a lower bound. */
  total?: number;
  totalCapped?: boolean;
}
