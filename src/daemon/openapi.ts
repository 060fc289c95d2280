/** The OpenAPI document's own fields; its paths come from the routes' schemas (@fastify/swagger). */
export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'runed',
    description:
      'The rune admin daemon: users, service accounts, policies, tokens, namespaces and registry credentials. ' +
      'Every /v1 route but bootstrap takes `Authorization: Bearer <token>`. Errors answer `{"error": {"code", "message", "details"?}}`.',
    version: '1',
  },
  components: {
    securitySchemes: { bearer: { type: 'http' as const, scheme: 'bearer', description: 'a rune token: rune_tok_<id>_<secret><checksum>' } },
  },
  security: [{ bearer: [] }],
  tags: [
    { name: 'session', description: 'bootstrap and whoami' },
    { name: 'users' },
    { name: 'serviceaccounts' },
    { name: 'policies' },
    { name: 'tokens' },
    { name: 'namespaces' },
    { name: 'registries' },
    { name: 'audit' },
    { name: 'authz' },
    { name: 'trusts', description: 'CI without stored secrets: OIDC issuers bound to service accounts' },
    { name: 'health', description: 'probes, metrics and this document; no token needed' },
  ],
};

const TOKEN_HEADERS = {
  'Rune-Token-Expires': {
    description: 'present when the token expires within 7 days: its expiry (RFC 3339); time to rotate it or mint a new one',
    schema: { type: 'string', format: 'date-time' },
  },
  'Rune-Token-Rotated': {
    description: 'present when the request used a secret that a rotation replaced: when that secret stops working (RFC 3339)',
    schema: { type: 'string', format: 'date-time' },
  },
};

type Operation = { security?: unknown[]; responses?: Record<string, { headers?: Record<string, unknown> }> };

/** Every answer to a request with a token may carry the token headers; the document says so once, by reference. */
export function withTokenHeaders<T extends { paths?: Record<string, Record<string, Operation>>; components?: Record<string, unknown> }>(doc: T): T {
  const refs = Object.fromEntries(Object.keys(TOKEN_HEADERS).map((name) => [name, { $ref: `#/components/headers/${name}` }]));
  for (const methods of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(methods)) {
      if (!op || typeof op !== 'object' || !op.responses || (Array.isArray(op.security) && op.security.length === 0)) continue;
      for (const response of Object.values(op.responses)) response.headers = { ...response.headers, ...refs };
    }
  }
  doc.components = { ...doc.components, headers: TOKEN_HEADERS };
  return doc;
}
