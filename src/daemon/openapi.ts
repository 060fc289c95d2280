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
