import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { alreadyExists, conflict, invalid, notFound } from '../../core/errors.js';
import { BUILTIN_NAMES } from '../../core/builtins.js';
import { checkPolicy, lintPolicyText, type LintResult, type PolicyDocument, type PolicyLimits } from '../../core/policy.js';
import { YamlText } from '../body.js';
import { Errors, LintResponse, List, PageQuery, Params, Policy, PolicyDocument as PolicyBody, PolicyImpact, SubjectType } from '../../core/schemas.js';
import { policyImpact, summarizeImpact, type ImpactCandidate } from '../../core/impact.js';
import type { Rule } from '../../core/policy.js';
import { describeRule } from '../../core/rbac.js';
import type { SubjectPolicies } from '../store/reach.js';
import { commit, guardGrant, missingGrant, policyLimits, requireAdmin, type App, type Ctx } from '../context.js';
import { readPage } from '../paging.js';

const tags = ['policies'];
const LintIssues = LintResponse.properties.warnings;
/** A policy answer with the linter's warnings, when there are any. */
const Written = Type.Object({ ...Policy.properties, warnings: Type.Optional(LintIssues) });
/** Policy bodies are JSON or YAML, checked by the policy linter so that errors carry line:column. */
const policyBody = { body: PolicyBody };
const yaml = { yaml: true };

/** Lints a body sent as YAML text (with line:column) or as a JSON object. */
function lintBody(body: unknown, limits: PolicyLimits): LintResult {
  if (body instanceof YamlText) return lintPolicyText(body.text, limits);
  if (body === undefined || body === null) {
    return { valid: false, errors: [{ path: '(document)', message: 'request body is required: a policy as JSON or YAML' }], warnings: [] };
  }
  return checkPolicy(body, limits);
}

/** The valid policy in the body, or a 400 carrying every error and warning. */
function policyFromBody(body: unknown, limits: PolicyLimits): { policy: PolicyDocument; warnings: LintResult['warnings'] } {
  const result = lintBody(body, limits);
  if (!result.valid || !result.policy) {
    const first = result.errors[0]!;
    const at = first.line !== undefined ? `line ${first.line}, column ${first.column}: ` : first.path !== '(document)' ? `${first.path}: ` : '';
    throw invalid(`policy is invalid: ${at}${first.message}`, { errors: result.errors, warnings: result.warnings });
  }
  return { policy: result.policy, warnings: result.warnings };
}

export function policyRoutes(app: App, ctx: Ctx): void {
  const { store } = ctx;
  const limits = policyLimits(ctx);
  const admin = (req: FastifyRequest, verb: string, ref?: string) => requireAdmin(ctx, req, { verb, resource: 'policies' }, ref);
  const withWarnings = <T extends object>(value: T, warnings: LintResult['warnings']) => (warnings.length ? { ...value, warnings } : value);

  app.get('/v1/policies', { schema: { tags, summary: 'List policies, built-ins included', querystring: Type.Object(PageQuery, { additionalProperties: false }), response: { 200: List(Policy), ...Errors } } }, async (req) => {
    admin(req, 'list');
    return store.policies.list(readPage(req.query, 1));
  });

  const detail = Type.Object({ ...Policy.properties, source: Type.Optional(Type.String({ description: 'the YAML text it was last written as, comments included' })), attachedTo: Type.Array(Type.Object({ name: Type.String(), type: SubjectType })) });
  app.get('/v1/policies/:name', { schema: { tags, summary: 'Get a policy and who holds it', params: Params.name, response: { 200: detail, ...Errors } } }, async (req) => {
    admin(req, 'get', req.params.name);
    const policy = await store.policies.get(req.params.name);
    if (!policy) throw notFound(`policy "${req.params.name}" not found`);
    const source = await store.policies.sourceOf(policy.name);
    return { ...policy, ...(source !== undefined ? { source } : {}), attachedTo: await store.subjects.holdersOf(policy.name) };
  });

  // Linting reads nothing stored, so any authenticated caller may use it.
  app.post('/v1/policies/lint', { schema: { tags, summary: 'Check a draft policy: errors with line:column, and warnings', ...policyBody, response: { 200: LintResponse, ...Errors } }, config: yaml }, async (req) => {
    const { valid, errors, warnings, truncated } = lintBody(req.body, limits);
    return { valid, errors, warnings, ...(truncated ? { truncated } : {}) };
  });

  app.post('/v1/policies', { schema: { tags, summary: 'Create a policy (JSON or YAML); its rules must be held, or escalate', ...policyBody, response: { 201: Written, ...Errors } }, config: yaml }, async (req, reply) => {
    admin(req, 'create');
    const { policy, warnings } = policyFromBody(req.body, limits);
    if (await store.policies.exists(policy.name)) {
      throw alreadyExists(`policy "${policy.name}" already exists: use PUT /v1/policies/${policy.name} to replace it`);
    }
    guardGrant(ctx, req, policy.rules, 'escalate', `create policy ${policy.name}`);
    const now = Date.now();
    await commit(ctx, req, { action: 'create', resource: 'policies', ref: policy.name, outcome: 'success' }, async (tx) => {
      if (await tx.policies.exists(policy.name)) throw alreadyExists(`policy "${policy.name}" already exists`);
      await tx.policies.insert(policy, now, false, req.body instanceof YamlText ? req.body.text : null);
    });
    return reply.code(201).send(withWarnings((await store.policies.get(policy.name))!, warnings));
  });

  app.put('/v1/policies/:name', { schema: { tags, summary: 'Replace a policy\'s description and rules', params: Params.name, ...policyBody, response: { 200: Written, ...Errors } }, config: yaml }, async (req) => {
    const name = req.params.name;
    admin(req, 'update', name);
    if (BUILTIN_NAMES.has(name)) throw conflict(`policy "${name}" is built in and cannot be modified: create a copy under another name`);
    if (!(await store.policies.exists(name))) throw notFound(`policy "${name}" not found: use POST /v1/policies to create it`);
    const { policy, warnings } = policyFromBody(req.body, limits);
    if (policy.name !== name) throw invalid(`the body names policy "${policy.name}" but the URL names "${name}": a policy cannot be renamed`, { field: 'name' });
    guardGrant(ctx, req, policy.rules, 'escalate', `write policy ${name}`);
    await commit(ctx, req, { action: 'update', resource: 'policies', ref: name, outcome: 'success' }, (tx) => tx.policies.replace(policy, Date.now(), req.body instanceof YamlText ? req.body.text : null));
    return withWarnings((await store.policies.get(name))!, warnings);
  });

  // A dry run of PUT (or POST, for a new name): nothing is written. It names holders and what else
  // they hold, so it takes reading the policy and the right to write it.
  app.post('/v1/policies/:name/impact', { schema: { tags, summary: 'What saving this document as the policy would change: who gains and who loses which rights (nothing is saved)', params: Params.name, ...policyBody, response: { 200: PolicyImpact, ...Errors } }, config: yaml }, async (req) => {
    const name = req.params.name;
    admin(req, 'get', name);
    const stored = await store.policies.get(name);
    admin(req, stored ? 'update' : 'create', name);
    if (BUILTIN_NAMES.has(name)) throw conflict(`policy "${name}" is built in and cannot be modified: create a copy under another name`);
    const { policy } = policyFromBody(req.body, limits);
    if (policy.name !== name) throw invalid(`the body names policy "${policy.name}" but the URL names "${name}": a policy cannot be renamed`, { field: 'name' });
    // The save would pass the same escalation guard: say now if it would not.
    const missing = missingGrant(req, policy.rules, 'escalate');
    const refusal = missing.length ? [`saving would be refused: it grants rules you do not hold: ${missing.map(describeRule).join('; ')}`] : [];
    const answer = await impactAnswer(ctx, name, stored?.rules, policy.rules);
    return { ...answer, summary: [...answer.summary, ...refusal], ...(missing.length ? { missingRules: missing } : {}) };
  });

  // Deleting detaches the policy from everyone who holds it; tokens narrowed to it lose those rights.
  // The answer says who lost which rights (computed just before the delete, as a dry run would).
  const deleted = Type.Object({
    policy: Policy,
    detachedFrom: Type.Array(Type.Object({ name: Type.String(), type: SubjectType }), { description: 'its holders (with ?dryRun=true: those it would be detached from)' }),
    impact: PolicyImpact,
    dryRun: Type.Optional(Type.Literal(true, { description: 'present with ?dryRun=true: nothing was deleted' })),
  });
  const deleteQuery = Type.Object({ dryRun: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')], { description: 'true: answer who would lose which rights, and delete nothing' })) }, { additionalProperties: false });
  app.delete('/v1/policies/:name', { schema: { tags, summary: 'Delete a policy, detaching it from its holders; says who loses which rights (?dryRun=true: only says)', params: Params.name, querystring: deleteQuery, response: { 200: deleted, ...Errors } } }, async (req) => {
    const name = req.params.name;
    admin(req, 'delete', name);
    if (BUILTIN_NAMES.has(name)) throw conflict(`policy "${name}" is built in and cannot be deleted`);
    const policy = await store.policies.get(name);
    if (!policy) throw notFound(`policy "${name}" not found`);
    // For rights, deleting is emptying: a token narrowed to a policy that is gone keeps none of it (it fails closed).
    const impact = await impactAnswer(ctx, name, policy.rules, []);
    if (req.query.dryRun === 'true') {
      return { policy, detachedFrom: await store.subjects.holdersOf(name), impact, dryRun: true as const };
    }
    const event = (holders: { name: string }[]) => ({ action: 'delete', resource: 'policies', ref: name, outcome: 'success' as const, message: holders.length ? `detached from ${holders.map((h) => h.name).join(', ')}` : '' });
    const detachedFrom = await commit(ctx, req, event, async (tx) => {
      const holders = await tx.subjects.holdersOf(name);
      await tx.policies.delete(name);
      return holders;
    });
    return { policy, detachedFrom, impact };
  });
}

/** The wire form of a policy's impact: `after` in place of the stored rules (`before`; undefined: a new policy). */
async function impactAnswer(ctx: Ctx, name: string, before: Rule[] | undefined, after: Rule[]) {
  const impact = policyImpact(before, after, await impactCandidates(ctx, name));
  return {
    policy: name,
    exists: before !== undefined,
    added: impact.added,
    removed: impact.removed,
    subjects: impact.subjects.map(({ subject, ...change }) => ({ name: subject.name, type: subject.type, ...change })),
    summary: summarizeImpact(name, before !== undefined, impact),
  };
}

/** Those `policy` reaches: its holders and the subjects of live tokens narrowed to it, the policy itself left out of their rules. */
async function impactCandidates(ctx: Ctx, policy: string): Promise<ImpactCandidate<SubjectPolicies>[]> {
  const { store } = ctx;
  const groups = new Map<string, { names: string[]; count: number }[]>();
  for (const g of await store.reach.liveTokenGroups(Date.now())) {
    const group = { names: JSON.parse(g.policies) as string[], count: g.count };
    const list = groups.get(g.subjectId);
    if (list) list.push(group);
    else groups.set(g.subjectId, [group]);
  }
  const reached = (await store.reach.subjects()).flatMap((subject) => {
    const holds = subject.policies.includes(policy);
    const tokens = groups.get(subject.id) ?? [];
    return holds || tokens.some((t) => t.names.includes(policy)) ? [{ subject, holds, tokens }] : [];
  });
  // Each other policy is read once, however many of them hold it.
  const names = new Set(reached.flatMap(({ subject, tokens }) => [...subject.policies, ...tokens.flatMap((t) => t.names)]));
  names.delete(policy);
  const known = new Map((await store.policies.rulesOf([...names])).map((p) => [p.name, p.rules]));
  const rulesOf = (list: string[]): Rule[] => list.flatMap((n) => (n === policy ? [] : (known.get(n) ?? [])));
  return reached.map(({ subject, holds, tokens }) => ({
    subject,
    holds,
    otherRules: rulesOf(subject.policies),
    tokens: tokens.map((t) => (t.names.length === 0 ? { count: t.count } : { count: t.count, narrowedTo: t.names, otherRules: rulesOf(t.names), narrowedToThis: t.names.includes(policy) })),
  }));
}
