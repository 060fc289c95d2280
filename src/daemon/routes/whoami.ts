import { Errors, Whoami as WhoamiSchema } from '../../core/schemas.js';
import type { Whoami } from '../../core/wire.js';
import { principalOf, type App, type Ctx } from '../context.js';

export function whoamiRoutes(app: App, _ctx: Ctx): void {
  const schema = { tags: ['session'], summary: 'Who the caller is: subject, token, policies and rules', response: { 200: WhoamiSchema, ...Errors } };
  app.get('/v1/whoami', { schema }, async (req) => {
    const p = principalOf(req);
    const body: Whoami = {
      subject: { id: p.subject.id, name: p.subject.name, type: p.subject.type },
      token: { id: p.token.id, name: p.token.name },
      policies: p.policies.map((x) => x.name),
      rules: p.holdings.subject,
    };
    if (p.subject.email) body.subject.email = p.subject.email;
    if (p.token.expires_at !== null) body.token.expiresAt = new Date(p.token.expires_at).toISOString();
    if (p.tokenPolicies) {
      body.token.policies = JSON.parse(p.token.policies) as string[];
      body.tokenRules = p.holdings.token ?? [];
    }
    return body;
  });
}
