import { Errors, Whoami as WhoamiSchema } from '../../core/schemas.js';
import { formatDuration } from '../../core/duration.js';
import type { Whoami } from '../../core/wire.js';
import { principalOf, type App, type Ctx } from '../context.js';
import { expiryText } from '../store/tokens.js';

export function whoamiRoutes(app: App, ctx: Ctx): void {
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
    if (p.token.expires_at !== null) body.token.expiresAt = expiryText(p.token.expires_at);
    if (p.tokenPolicies) {
      body.token.policies = JSON.parse(p.token.policies) as string[];
      body.tokenRules = p.holdings.token ?? [];
    }
    // The token lifetime rules, so a client can say what "never" becomes before it asks.
    const { tokenMaxTtl, tokenDefaultTtl } = ctx.config.auth;
    if (tokenMaxTtl !== undefined || tokenDefaultTtl !== undefined) {
      body.limits = { ...(tokenMaxTtl !== undefined ? { tokenMaxTtl: formatDuration(tokenMaxTtl) } : {}), ...(tokenDefaultTtl !== undefined ? { tokenDefaultTtl: formatDuration(tokenDefaultTtl) } : {}) };
    }
    return body;
  });
}
