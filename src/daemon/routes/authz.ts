import { CheckAnswer, CheckBody, Errors, WhoCanAnswer, WhoCanQuery } from '../../core/schemas.js';
import { invalid, notFound } from '../../core/errors.js';
import { checkPolicy, lintPolicyText } from '../../core/policy.js';
import { explain, isClusterScoped, whoCan, type NamedRules, type WhoCanCandidate } from '../../core/rbac.js';
import { can, isAdminFor, policyLimits, principalOf, requireAdmin, requireAdminPeer, type App, type Ctx } from '../context.js';
import type { SubjectPolicies } from '../store/reach.js';
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

  // The answer maps the RBAC graph (subjects, their policies and rules), so only those who may read
  // all of it may ask; token counts only for those who may see others' tokens.
  const whoCanSchema = { tags: ['authz'], summary: 'Who may do VERB on RESOURCE in NAMESPACE: every user and service account, the rule that grants it, and its live tokens that carry it', querystring: WhoCanQuery, response: { 200: WhoCanAnswer, ...Errors } };
  app.get('/v1/authz/who-can', { schema: whoCanSchema }, async (req) => {
    for (const resource of ['users', 'serviceaccounts', 'policies']) requireAdmin(ctx, req, { verb: 'list', resource });
    const { verb, resource } = req.query;
    if (!verb.trim()) throw invalid('verb is required, e.g. "delete"', { field: 'verb' });
    if (!resource.trim()) throw invalid('resource is required, e.g. "services"', { field: 'resource' });
    const namespace = req.query.namespace && !isClusterScoped(resource) ? req.query.namespace : undefined;
    const countTokens = isAdminFor(ctx, req, { verb: 'list', resource: 'tokens' });
    const grants = whoCan(await candidates(ctx, countTokens), namespace ? { verb, resource, namespace } : { verb, resource });
    return {
      verb,
      resource,
      ...(namespace ? { namespace } : {}),
      subjects: grants.map((g) => ({
        name: g.subject.name,
        type: g.subject.type,
        via: g.via,
        ...(countTokens ? { tokens: g.tokens, liveTokens: g.liveTokens } : {}),
      })),
      tokensCounted: countTokens,
    };
  });
}

/** Every subject with its policies' rules and, when asked for, its live tokens grouped by narrowing. */
async function candidates(ctx: Ctx, withTokens: boolean): Promise<WhoCanCandidate<SubjectPolicies>[]> {
  const { store } = ctx;
  const groups = withTokens ? await store.reach.liveTokenGroups(Date.now()) : [];
  const subjects = await store.reach.subjects();
  const bySubject = new Map<string, typeof groups>();
  const narrowings = new Map<string, string[]>();
  for (const g of groups) {
    const list = bySubject.get(g.subjectId);
    if (list) list.push(g);
    else bySubject.set(g.subjectId, [g]);
    if (!narrowings.has(g.policies)) narrowings.set(g.policies, JSON.parse(g.policies) as string[]);
  }
  // Each policy is read once, however many subjects hold it.
  const names = new Set([...subjects.flatMap((s) => s.policies), ...[...narrowings.values()].flat()]);
  const known = new Map((await store.policies.rulesOf([...names])).map((p) => [p.name, p]));
  // A policy that no longer exists contributes nothing, as in authentication.
  const rulesOf = (list: string[]): NamedRules[] => list.flatMap((name) => known.get(name) ?? []);
  return subjects.map((subject) => {
    const tokens = (bySubject.get(subject.id) ?? []).map((g) => {
      const narrowing = narrowings.get(g.policies)!;
      return narrowing.length === 0 ? { count: g.count } : { count: g.count, narrowing: rulesOf(narrowing) };
    });
    return { subject, policies: rulesOf(subject.policies), tokens };
  });
}
