import type { Rule } from './policy.js';
import { describeRule, isClusterScoped, missingRules, type Holdings } from './rbac.js';

/**
 * What saving a new version of a policy does to the rights of those it reaches: its holders, and
 * tokens narrowed to it. Rights are compared as held (rbac's coverage, as the escalation guard
 * uses it), so a rule another policy already grants changes nothing for that subject.
 */

/** A subject the policy reaches, with the policy's rules left out of its holdings. */
export interface ImpactCandidate<S> {
  subject: S;
  /** The policy is attached to the subject. */
  holds: boolean;
  /** The rules of the subject's other policies. */
  otherRules: Rule[];
  /** Its live tokens, grouped by narrowing. */
  tokens: ImpactTokens[];
}

export interface ImpactTokens {
  count: number;
  /** The policies the tokens are narrowed to; absent: they carry their subject's rights. */
  narrowedTo?: string[];
  /** The rules of those policies other than this one (that still exist). */
  otherRules?: Rule[];
  /** This policy is among those it is narrowed to. */
  narrowedToThis?: boolean;
}

export interface RightsChange {
  gains: Rule[];
  loses: Rule[];
}

export interface SubjectImpact<S> extends RightsChange {
  subject: S;
  holds: boolean;
  /** Live tokens whose rights change. */
  tokens: number;
  /** Narrowed tokens whose change differs from their subject's. */
  narrowedTokens: (RightsChange & { narrowedTo: string[]; count: number })[];
}

export interface PolicyImpact<S> {
  added: Rule[];
  removed: Rule[];
  subjects: SubjectImpact<S>[];
}

const ruleKey = (r: Rule) => JSON.stringify([r.resource, [...r.verbs].sort(), r.namespace ?? '*']);

/** One verb of a rule: the unit rights are compared in. */
function atomsOf(rules: Rule[]): Rule[] {
  const seen = new Map<string, Rule>();
  for (const rule of rules) {
    for (const verb of rule.verbs) {
      const atom: Rule = { resource: rule.resource, verbs: [verb], ...(rule.namespace !== undefined ? { namespace: rule.namespace } : {}) };
      seen.set(ruleKey(atom), atom);
    }
  }
  return [...seen.values()];
}

const covers = (h: Holdings, atom: Rule) => missingRules(h, [atom]).length === 0;

/** Atoms with the same resource and namespace, as one rule with their verbs. */
function merged(atoms: Rule[]): Rule[] {
  const byScope = new Map<string, Rule>();
  for (const a of atoms) {
    const key = JSON.stringify([a.resource, a.namespace ?? '*']);
    const r = byScope.get(key);
    if (r) r.verbs.push(...a.verbs);
    else byScope.set(key, { ...a, verbs: [...a.verbs] });
  }
  return [...byScope.values()];
}

function change(before: Holdings, after: Holdings, atoms: Rule[]): RightsChange {
  const gains: Rule[] = [];
  const loses: Rule[] = [];
  for (const atom of atoms) {
    const was = covers(before, atom);
    const is = covers(after, atom);
    if (!was && is) gains.push(atom);
    if (was && !is) loses.push(atom);
  }
  return { gains: merged(gains), loses: merged(loses) };
}

const isEmpty = (c: RightsChange) => c.gains.length === 0 && c.loses.length === 0;
const sameChange = (a: RightsChange, b: RightsChange) => JSON.stringify(a) === JSON.stringify(b);

/** `before` undefined: a policy that does not exist yet. */
export function policyImpact<S>(before: Rule[] | undefined, after: Rule[], candidates: ImpactCandidate<S>[]): PolicyImpact<S> {
  const old = before ?? [];
  const oldKeys = new Set(old.map(ruleKey));
  const newKeys = new Set(after.map(ruleKey));
  const atoms = atomsOf([...old, ...after]);
  const holdingsWith = (c: ImpactCandidate<S>, t: ImpactTokens | undefined, rules: Rule[]): Holdings => {
    const subject = c.holds ? [...c.otherRules, ...rules] : c.otherRules;
    if (!t?.narrowedTo) return { subject };
    return { subject, token: [...(t.otherRules ?? []), ...(t.narrowedToThis ? rules : [])] };
  };
  const subjects = candidates.map((c): SubjectImpact<S> => {
    const own = change(holdingsWith(c, undefined, old), holdingsWith(c, undefined, after), atoms);
    let tokens = 0;
    const narrowedTokens: SubjectImpact<S>['narrowedTokens'] = [];
    for (const t of c.tokens) {
      const tc = t.narrowedTo ? change(holdingsWith(c, t, old), holdingsWith(c, t, after), atoms) : own;
      if (isEmpty(tc)) continue;
      tokens += t.count;
      if (!sameChange(tc, own)) narrowedTokens.push({ ...tc, narrowedTo: t.narrowedTo!, count: t.count });
    }
    return { subject: c.subject, holds: c.holds, ...own, tokens, narrowedTokens };
  });
  return { added: after.filter((r) => !oldKeys.has(ruleKey(r))), removed: old.filter((r) => !newKeys.has(ruleKey(r))), subjects };
}

/** "delete services in prod", "get, list users", "all verbs on all resources in every namespace". */
export function describeRight(rule: Rule): string {
  const what = rule.resource === '*' ? 'all resources' : rule.resource;
  const verbs = rule.verbs.includes('*') ? `all verbs on ${what}` : `${rule.verbs.join(', ')} ${what}`;
  if (rule.resource !== '*' && isClusterScoped(rule.resource)) return verbs;
  return rule.namespace === undefined || rule.namespace === '*' ? `${verbs} in every namespace` : `${verbs} in ${rule.namespace}`;
}

const describeChange = (c: RightsChange) => [...c.gains.map((r) => `+ ${describeRight(r)}`), ...c.loses.map((r) => `\u2212 ${describeRight(r)}`)].join('; ');
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/**
 * The impact in lines an operator reads: the rules added and removed, then who gains and loses
 * what, subjects with the same change on one line ("alice, ci-stg (2 tokens): + delete services
 * in prod; \u2212 list secrets in every namespace"), and whom the change leaves as they were.
 */
export function summarizeImpact(policy: string, exists: boolean, impact: PolicyImpact<{ name: string }>): string[] {
  const lines: string[] = [];
  if (impact.added.length === 0 && impact.removed.length === 0) lines.push(`${policy}: no rule changes`);
  for (const r of impact.added) lines.push(`rule added:   ${describeRule(r)}`);
  for (const r of impact.removed) lines.push(`rule removed: ${describeRule(r)}`);
  if (impact.subjects.length === 0) {
    lines.push(exists ? `nobody holds ${policy} and no token is narrowed to it: no one's rights change` : `${policy} is new: nobody holds it yet, so no one's rights change`);
    return lines;
  }
  const groups = new Map<string, string[]>();
  const unchanged: string[] = [];
  for (const s of impact.subjects) {
    const own = describeChange(s);
    const ownTokens = s.tokens - s.narrowedTokens.reduce((n, t) => n + t.count, 0);
    if (own) {
      const label = `${s.subject.name}${ownTokens > 0 ? ` (${plural(ownTokens, 'token')})` : ''}`;
      groups.set(own, [...(groups.get(own) ?? []), label]);
    }
    for (const t of s.narrowedTokens) {
      const label = `${s.subject.name}'s ${plural(t.count, 'token')} narrowed to ${t.narrowedTo.join(', ')}`;
      const text = describeChange(t);
      groups.set(text, [...(groups.get(text) ?? []), label]);
    }
    if (!own && s.narrowedTokens.length === 0) unchanged.push(s.subject.name);
  }
  for (const [text, names] of groups) lines.push(`${names.join(', ')}: ${text}`);
  if (unchanged.length > 0) lines.push(`no change for ${unchanged.join(', ')}`);
  return lines;
}
