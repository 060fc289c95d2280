import { CheckAnswer, CheckBody, Errors } from '../../core/schemas.js';
import { invalid, notFound } from '../../core/errors.js';
import { checkPolicy, lintPolicyText } from '../../core/policy.js';
import { explain, type NamedRules } from '../../core/rbac.js';
import { can, policyLimits, principalOf, requireAdmin, requireAdminPeer, type App, type Ctx } from '../context.js';
import type { SubjectRow } from '../store/subjects.js';

/** POST /v1/authz/check: can a subject (or a token, or the caller) do VERB on RESOURCE in NAMESPACE? */
export function authzRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;

  const schema = { tags: ['authz'], summary: 'Can a subject (or a token, or the caller) do VERB on RESOURCE in NAMESPACE? With the deciding rule or the closest miss', body: CheckBody, response: { 200: CheckAnswer, ...Errors } };
  app.post('/v1/authz/check', { schema }, async (req) => {
    const body = req.body;
    const { verb, resource } = body;
    if (!verb) throw invalid('verb is required, e.g. "list"', { field: 'verb' });
    if (!resource) throw invalid('resource is required, e.g. "services"', { field: 'resource' });
    const namespace = body.namespace || undefined;
    const subjectName = body.subject ?? undefined;
    const tokenId = body.token ?? undefined;
    if (subjectName && tokenId) throw invalid('give subject or token, not both', { field: 'token' });

    const caller = principalOf(req);
    let subject: SubjectRow = caller.subject;
    let narrowing: string[] | undefined = caller.tokenPolicies ? (JSON.parse(caller.token.policies) as string[]) : undefined;
    const mayInspect = (s: SubjectRow) => {
      if (s.id === caller.subject.id) return;
      const access = { verb: 'get', resource: s.type === 'user' ? 'users' : 'serviceaccounts' };
      requireAdmin(ctx, req, access, s.name);
    };
    if (tokenId) {
      const row = await store.tokens.get(tokenId);
      const own = row?.subject_id === caller.subject.id;
      if (!own) {
        if (!can(req, { verb: 'get', resource: 'tokens' })) throw notFound(`token "${tokenId}" not found`);
        requireAdminPeer(ctx, req, { verb: 'get', resource: 'tokens' });
      }
      if (!row) throw notFound(`token "${tokenId}" not found`);
      const s = await store.subjects.getById(row.subject_id);
      if (!s) throw notFound(`the subject of token "${tokenId}" no longer exists`);
      subject = s;
      const names = JSON.parse(row.policies) as string[];
      narrowing = names.length > 0 ? names : undefined;
    } else if (subjectName && subjectName !== caller.subject.name) {
      const s = await store.subjects.getByName(subjectName);
      if (!s) {
        requireAdmin(ctx, req, { verb: 'get', resource: 'users' });
        throw notFound(`subject "${subjectName}" not found`);
      }
      mayInspect(s);
      subject = s;
      narrowing = undefined;
    }

    const policies: NamedRules[] = await store.policies.rulesOfSubjectId(subject.id);
    let draftName: string | undefined;
    if (body.policy !== undefined && body.policy !== null) {
      const limits = policyLimits(ctx);
      const lint = typeof body.policy === 'string' ? lintPolicyText(body.policy, limits) : checkPolicy(body.policy, limits);
      if (!lint.valid || !lint.policy) {
        const first = lint.errors[0]!;
        throw invalid(`draft policy is invalid: ${first.line !== undefined ? `line ${first.line}, column ${first.column}: ` : ''}${first.message}`, { errors: lint.errors });
      }
      draftName = `${lint.policy.name} (draft)`;
      // As if attached: the draft replaces a stored policy of the same name.
      const i = policies.findIndex((p) => p.name === lint.policy!.name);
      if (i >= 0) policies.splice(i, 1);
      policies.unshift({ name: draftName, rules: lint.policy.rules });
    }
    const tokenPolicies = narrowing && (await store.policies.rulesOf(narrowing));
    const access = namespace ? { verb, resource, namespace } : { verb, resource };
    const answer = explain(policies, access, tokenPolicies);
    return {
      ...answer,
      subject: { name: subject.name, type: subject.type },
      policies: policies.map((p) => p.name),
      ...(narrowing ? { tokenPolicies: narrowing } : {}),
      ...(draftName ? { draft: draftName } : {}),
    };
  });
}
