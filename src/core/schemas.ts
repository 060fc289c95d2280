import { Type, type Static, type TSchema } from 'typebox';

/**
 * The wire, written once: runed validates requests and serialises answers with these schemas,
 * the OpenAPI document is generated from them, and `wire.ts` derives the client's types from them.
 * Response schemas are an allow-list: a field that is not here never leaves the daemon.
 * Only the daemon loads this module; everybody else imports its types.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Time = Type.String({ format: 'date-time', description: 'ISO-8601, UTC' });

/** Free text: no control characters but tab and newline. */
export const TEXT_PATTERN = '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f]*$';
const Text = (maxLength: number, description?: string) => Type.String({ maxLength, pattern: TEXT_PATTERN, ...(description ? { description } : {}) });
const Name = (description: string) => Type.String({ description: `${description} (a DNS-1123 label: lowercase letters, digits and "-", at most 63)` });
const Names = (description: string) => Type.Array(Type.String(), { description });
const Ttl = Nullable(Type.String({ description: 'a duration such as "720h", "90d" or "1h30m"' }));

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'invalid_argument, unauthenticated, permission_denied, not_found, already_exists, failed_precondition, payload_too_large, unsupported_media_type, rate_limited, internal, unavailable' }),
      message: Type.String(),
      details: Type.Optional(Type.Object({}, { additionalProperties: true })),
    }),
  },
);

export const Rule = Type.Object(
  {
    resource: Type.String({ description: 'a resource name or "*"' }),
    verbs: Type.Array(Type.String()),
    namespace: Type.Optional(Type.String({ description: 'a namespace or "*"; omitted means every namespace' })),
  },
);

export const SubjectType = Type.Union([Type.Literal('user'), Type.Literal('service')]);
export const TokenStatus = Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('disabled'), Type.Literal('revoked')]);
export const TokenKind = Type.Union([Type.Literal('session'), Type.Literal('derived')]);
export const Outcome = Type.Union([Type.Literal('success'), Type.Literal('denied'), Type.Literal('error')]);
export const RegistryType = Type.Union([Type.Literal('docker'), Type.Literal('ecr')]);

export const User = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    email: Type.Optional(Type.String()),
    policies: Type.Array(Type.String()),
    createdAt: Time,
    updatedAt: Time,
  },
);

export const ServiceAccount = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    namespace: Type.Optional(Type.String({ description: 'the namespace its permissions are pinned to; absent = cluster-wide' })),
    permissions: Type.Array(Type.String()),
    description: Type.String(),
    policies: Type.Array(Type.String()),
    createdAt: Time,
    updatedAt: Time,
  },
);

export const Policy = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    rules: Type.Array(Rule),
    builtin: Type.Boolean(),
    createdAt: Time,
    updatedAt: Time,
  },
);

export const Token = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    subjectId: Type.String(),
    subjectName: Type.String(),
    subjectType: SubjectType,
    policies: Type.Array(Type.String(), { description: 'the policies the token is narrowed to; empty = its subject\'s rights' }),
    description: Type.String(),
    kind: TokenKind,
    createdAt: Time,
    expiresAt: Type.Optional(Time),
    enabled: Type.Boolean(),
    revokedAt: Type.Optional(Time),
    lastUsedAt: Type.Optional(Time),
    status: TokenStatus,
  },
);

export const Namespace = Type.Object({ name: Type.String(), createdAt: Time });

const SELECTOR_HELP =
  'terms joined by commas (AND): subject=NAME, policy=NAME, name-prefix=TEXT, created-by=TOKEN_ID, unused-for=DURATION, expires-within=DURATION, kind=user|service, search=TEXT; only live (not revoked) tokens match';

/** What a bulk revoke or disable did (or, on a dry run, would do). */
export const TokenBulkAnswer = Type.Object({
  action: Type.Union([Type.Literal('revoke'), Type.Literal('disable')]),
  selector: Type.String({ description: 'the selector as understood (canonical form)' }),
  dryRun: Type.Boolean({ description: 'true: nothing was changed' }),
  count: Type.Integer({ description: 'how many tokens were (dry run: would be) changed' }),
  tokens: Type.Array(Token, { description: 'those tokens, oldest first, as they are after the call' }),
  skipped: Type.Array(Type.Object({ token: Token, reason: Type.String() }), { description: 'tokens that match but are left as they are: the caller\'s own token, tokens already disabled' }),
});

export const Registry = Type.Object(
  {
    name: Type.String(),
    server: Type.String(),
    type: RegistryType,
    username: Type.Optional(Type.String()),
    region: Type.Optional(Type.String()),
    hasPassword: Type.Boolean({ description: 'the password itself is write-only' }),
    createdAt: Time,
    updatedAt: Time,
  },
);

export const AuditRecord = Type.Object(
  {
    id: Type.Integer(),
    time: Time,
    actor: Type.Optional(Type.Object({ name: Type.String(), type: Type.String(), tokenId: Type.Optional(Type.String()) })),
    action: Type.String(),
    resource: Type.String(),
    ref: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    outcome: Outcome,
    message: Type.String(),
    remoteAddr: Type.Optional(Type.String()),
    prevHash: Type.String(),
    hash: Type.String(),
  },
);

export const List = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Optional(Type.String({ description: 'pass as ?cursor= for the next page' })),
    total: Type.Optional(Type.Integer({ description: 'on a first page of a searchable list: how many rows match (a lower bound with totalCapped)' })),
    totalCapped: Type.Optional(Type.Boolean({ description: 'total was counted up to a cap (a common search match)' })),
  });

export const CreatedToken = Type.Object({
  token: Token,
  secret: Type.String({ description: 'the bearer string, shown exactly once' }),
  attached: Type.Optional(Type.Array(Type.String(), { description: 'policies attached to the subject because the token named them' })),
});

export const Whoami = Type.Object({
  subject: Type.Object({ id: Type.String(), name: Type.String(), type: SubjectType, email: Type.Optional(Type.String()) }),
  token: Type.Object({ id: Type.String(), name: Type.String(), expiresAt: Type.Optional(Time), policies: Type.Optional(Type.Array(Type.String())) }),
  policies: Type.Array(Type.String()),
  rules: Type.Array(Rule),
  tokenRules: Type.Optional(Type.Array(Rule, { description: 'present when the token narrows its subject: effective rights are both sets\' intersection' })),
  limits: Type.Optional(
    Type.Object({ tokenMaxTtl: Type.Optional(Type.String()), tokenDefaultTtl: Type.Optional(Type.String()) }, { description: 'the daemon\'s token lifetime settings, when set ("never" becomes one of them)' }),
  ),
});

const LintIssue = Type.Object({ line: Type.Optional(Type.Integer()), column: Type.Optional(Type.Integer()), path: Type.String(), message: Type.String() });
export const LintResponse = Type.Object({
  valid: Type.Boolean(),
  errors: Type.Array(LintIssue),
  warnings: Type.Array(LintIssue),
  truncated: Type.Optional(Type.Object({ errors: Type.Integer(), warnings: Type.Integer() }, { description: 'how many issues were left out of a long answer' })),
});

const RuleRef = Type.Object({ policy: Type.String(), rule: Rule, index: Type.Integer() });
export const CheckAnswer = Type.Object({
  allowed: Type.Boolean(),
  reason: Type.String(),
  decidedBy: Type.Optional(RuleRef),
  closest: Type.Optional(Type.Object({ policy: Type.String(), rule: Rule, index: Type.Integer(), differs: Type.Array(Type.String()) })),
  subject: Type.Object({ name: Type.String(), type: SubjectType }),
  policies: Type.Array(Type.String()),
  tokenPolicies: Type.Optional(Type.Array(Type.String())),
  draft: Type.Optional(Type.String()),
});

const WhoCanSubject = Type.Object({
  name: Type.String(),
  type: SubjectType,
  via: Type.Object({ ...RuleRef.properties }, { description: 'the policy and rule that grant it (the first that allows, as can-i decides)' }),
  tokens: Type.Optional(Type.Integer({ description: 'live tokens that carry the right (a narrowed token only if its narrowing grants it too)' })),
  liveTokens: Type.Optional(Type.Integer({ description: 'all of the subject\'s live tokens' })),
});
export const WhoCanAnswer = Type.Object({
  verb: Type.String(),
  resource: Type.String(),
  namespace: Type.Optional(Type.String({ description: 'absent for a cluster-scoped resource' })),
  subjects: Type.Array(WhoCanSubject),
  tokensCounted: Type.Boolean({ description: 'false when the caller may not list tokens: the counts are left out' }),
});

const RightsChange = {
  gains: Type.Array(Rule, { description: 'rights held after the change and not before' }),
  loses: Type.Array(Rule, { description: 'rights held before the change and not after' }),
};
export const PolicyImpact = Type.Object({
  policy: Type.String(),
  exists: Type.Boolean({ description: 'false: the document would create the policy' }),
  added: Type.Array(Rule, { description: 'rules in the document and not in the stored policy' }),
  removed: Type.Array(Rule, { description: 'rules in the stored policy and not in the document' }),
  subjects: Type.Array(
    Type.Object({
      name: Type.String(),
      type: SubjectType,
      holds: Type.Boolean({ description: 'the policy is attached to it (false: only tokens narrowed to it)' }),
      ...RightsChange,
      tokens: Type.Integer({ description: 'live tokens whose rights change' }),
      narrowedTokens: Type.Array(Type.Object({ narrowedTo: Type.Array(Type.String()), count: Type.Integer(), ...RightsChange }), { description: 'narrowed tokens whose change differs from their subject\'s' }),
    }),
  ),
  summary: Type.Array(Type.String(), { description: 'the same, in lines for people' }),
  missingRules: Type.Optional(Type.Array(Rule, { description: 'present when saving would be refused: the rules the caller does not hold (and it lacks "escalate" on policies)' })),
});

export const CreatedServiceAccount = Type.Object({
  serviceAccount: ServiceAccount,
  policy: Type.Optional(Policy),
  policies: Type.Optional(Type.Array(Policy)),
  token: Token,
  secret: Type.String({ description: 'the bearer string, shown exactly once' }),
  warnings: Type.Optional(Type.Array(Type.String())),
});

export const Trust = Type.Object({
  name: Type.String(),
  issuer: Type.String(),
  audience: Type.String(),
  claims: Type.Record(Type.String(), Type.String(), { description: 'claim name → the value it must have (a pattern only with allowGlob)' }),
  serviceAccount: Type.String(),
  ttl: Type.String({ description: 'lifetime of each token minted through the trust, e.g. "15m"' }),
  allowGlob: Type.Boolean(),
  description: Type.String(),
  createdAt: Time,
  warnings: Type.Optional(Type.Array(Type.String(), { description: 'what the linter found: set when the trust lets in more than an exact binding would' })),
});

export const ExchangedToken = Type.Object({ ...CreatedToken.properties, trust: Type.String(), serviceAccount: Type.String() });

// Requests.

/** The trust's own checks give the messages (which claim, which pattern): the schema is for types and shape. */
export const TrustBody = Type.Object(
  {
    name: Name('the trust name'),
    issuer: Type.Optional(Nullable(Text(512, 'the OIDC issuer URL (HTTPS; plain HTTP only on loopback)'))),
    audience: Type.Optional(Nullable(Text(256, 'the exact "aud" the CI job requests its token for'))),
    claims: Type.Optional(Type.Unknown({ description: 'claim name → exact value, e.g. {"repository": "acme/api", "ref": "refs/heads/main"}' })),
    serviceAccount: Type.Optional(Type.Unknown({ description: 'the service account whose tokens the trust mints' })),
    ttl: Type.Optional(Ttl),
    allowGlob: Type.Optional(Nullable(Type.Boolean())),
    description: Type.Optional(Nullable(Text(1024))),
  },
  { additionalProperties: false },
);

export const ExchangeBody = Type.Object(
  {
    trust: Type.Unknown({ description: 'the trust name' }),
    jwt: Type.Optional(Type.Unknown({ description: 'the CI job\'s OIDC ID token (never echoed back)' })),
  },
  { additionalProperties: false },
);

export const PageQuery = {
  limit: Type.Optional(Type.String({ pattern: '^\\d+$', description: 'items per page, 1–1000 (default 100)' })),
  cursor: Type.Optional(Type.String({ description: 'the nextCursor of the previous page' })),
};

/** ?search= and ?sort= of a searchable list (the daemon checks the sort values and names them in a 400). */
const SearchQuery = (fields: string, sorts: string) => ({
  search: Type.Optional(Type.String({ description: `a case-insensitive substring of ${fields}; at most 200 characters` })),
  sort: Type.Optional(Type.String({ description: `${sorts}; a leading - reverses; the cursor carries it` })),
});

export const SubjectListQuery = (fields: string) => Type.Object({ ...PageQuery, ...SearchQuery(fields, 'name (default) or created') }, { additionalProperties: false });

export const UserBody = Type.Object(
  {
    name: Name('the user name'),
    email: Type.Optional(Nullable(Type.String({ maxLength: 254 }))),
    policies: Type.Optional(Nullable(Names('the complete list of policies the user holds'))),
  },
  { additionalProperties: false },
);

export const TokenCreateBody = Type.Object(
  {
    name: Type.Optional(Nullable(Text(128))),
    subjectName: Type.Optional(Nullable(Type.String({ maxLength: 63 }))),
    subjectId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    policies: Type.Optional(Nullable(Names('narrow the token to these policies (attached to the subject if missing)'))),
    ttl: Type.Optional(Ttl),
    description: Type.Optional(Nullable(Text(1024))),
    kind: Type.Optional(Nullable(TokenKind)),
  },
  { additionalProperties: false },
);

export const TokenPatchBody = Type.Object(
  {
    description: Type.Optional(Nullable(Text(1024))),
    ttl: Type.Optional(Ttl),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const TokenRotateBody = Type.Object(
  {
    grace: Type.Optional(
      Nullable(Type.String({ maxLength: 32, description: 'how long the old secret keeps working, e.g. "1h" (the default) or "0" to cut over at once; at most 30d' })),
    ),
  },
  { additionalProperties: false },
);

export const TokenBulkBody = Type.Object(
  {
    selector: Type.String({ maxLength: 1024, pattern: TEXT_PATTERN, description: SELECTOR_HELP }),
    dryRun: Type.Optional(Type.Boolean({ description: 'answer what would happen and change nothing (default false)' })),
    expect: Type.Optional(Type.Integer({ minimum: 0, description: 'refuse (409, nothing changed) unless exactly this many tokens would change' })),
  },
  { additionalProperties: false },
);

export const RotatedToken = Type.Object({
  token: Token,
  secret: Type.String({ description: 'the new bearer string, shown exactly once' }),
  graceUntil: Type.Optional(Type.String({ format: 'date-time', description: 'when the old secret stops working; absent when it stopped at once' })),
});

export const TokenListQuery = Type.Object(
  {
    ...PageQuery,
    selector: Type.Optional(Type.String({ description: `only the tokens this selector matches: ${SELECTOR_HELP}` })),
    subject: Type.Optional(Type.String({ description: 'only this subject\'s tokens' })),
    expiresWithin: Type.Optional(Type.String({ maxLength: 32, description: 'only tokens that expire within this duration from now, e.g. "7d" (expired ones included unless status says otherwise)' })),
    status: Type.Optional(Type.Union([TokenStatus, Type.Literal('')])),
    ...SearchQuery('the name, subject, description or id', 'created (default), name, subject, expires or lastUsed'),
  },
  { additionalProperties: false },
);

export const NamespaceBody = Type.Object({ name: Name('the namespace') }, { additionalProperties: false });

export const RegistryBody = Type.Object(
  {
    name: Name('the registry name'),
    server: Type.Optional(Nullable(Text(255, 'a registry host, optionally with :port and /path, without a scheme'))),
    type: Type.Optional(Nullable(RegistryType)),
    username: Type.Optional(Nullable(Text(255))),
    password: Type.Optional(Nullable(Text(16_384, 'write-only: stored encrypted, never returned'))),
    region: Type.Optional(Nullable(Text(32, 'the AWS region of an ecr registry'))),
  },
  { additionalProperties: false },
);

export const ServiceAccountBody = Type.Object(
  {
    name: Name('the service account name'),
    namespace: Type.Optional(Nullable(Name('pin its permissions to this namespace'))),
    permissions: Type.Optional(Nullable(Names('cast (default), read, admin'))),
    ttl: Type.Optional(Ttl),
    description: Type.Optional(Nullable(Text(1024))),
    tokenName: Type.Optional(Nullable(Text(128))),
  },
  { additionalProperties: false },
);

export const AuditQuery = Type.Object(
  {
    ...PageQuery,
    actor: Type.Optional(Type.String()),
    action: Type.Optional(Type.String()),
    outcome: Type.Optional(Type.Union([Outcome, Type.Literal('')])),
    resource: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ description: 'a time (2026-01-31T12:00:00Z) or a duration back from now (1h, 7d)' })),
    after: Type.Optional(Type.String({ pattern: '^\\d+$', description: 'follow the trail: events after this id, oldest first' })),
    wait: Type.Optional(Type.String({ description: 'with after: wait up to this long (at most 30s) for a new event before answering an empty page' })),
    search: Type.Optional(Type.String({ description: 'a case-insensitive substring of the actor, action, resource, ref, namespace or message' })),
  },
  { additionalProperties: false },
);

export const CheckBody = Type.Object(
  {
    subject: Type.Optional(Nullable(Type.String({ maxLength: 63 }))),
    token: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    verb: Type.String({ maxLength: 64, pattern: TEXT_PATTERN }),
    resource: Type.String({ maxLength: 64, pattern: TEXT_PATTERN }),
    namespace: Type.Optional(Nullable(Type.String({ maxLength: 63, pattern: TEXT_PATTERN }))),
    policy: Type.Optional(Type.Unknown({ description: 'a draft policy (YAML text or an object) to ask as if it were attached' })),
  },
  { additionalProperties: false },
);

export const WhoCanQuery = Type.Object(
  {
    verb: Type.String({ maxLength: 64, pattern: TEXT_PATTERN }),
    resource: Type.String({ maxLength: 64, pattern: TEXT_PATTERN }),
    namespace: Type.Optional(Type.String({ maxLength: 63, pattern: TEXT_PATTERN })),
  },
  { additionalProperties: false },
);

/** A policy document in JSON or YAML; the policy linter checks it (with line:column). */
export const PolicyDocument = Type.Unknown({
  description: 'a policy {name, description?, rules: [{resource, verbs, namespace?}]} as JSON, or the same as YAML text (Content-Type: application/yaml)',
});

export const Params = {
  name: Type.Object({ name: Type.String() }),
  id: Type.Object({ id: Type.String({ description: 'a token id (tok_…)' }) }),
  namePolicy: Type.Object({ name: Type.String(), policy: Type.String() }),
};

/** Answers that are not the success shape: the same error body for every 4xx and 5xx. */
export const Errors = { '4xx': ErrorBody, '5xx': ErrorBody };

