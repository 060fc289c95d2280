import { isAdminResource, type Rule } from './policy.js';

/** One thing a caller wants to do. A cluster-scoped request has no namespace. */
export interface Access {
  verb: string;
  resource: string;
  namespace?: string;
}

export interface NamedRules {
  name: string;
  rules: Rule[];
}

const coversAllNamespaces = (rule: Rule) => rule.namespace === undefined || rule.namespace === '*';

/** Admin resources and namespaces themselves live outside any namespace. */
export const isClusterScoped = (resource: string) => isAdminResource(resource) || resource === 'namespaces';

/**
 * The access as enforcement sees it: a namespace given for a cluster-scoped resource is dropped,
 * so asking "users in dev" gets the same answer as the route that serves users.
 */
export function normalizeAccess(access: Access): Access {
  if (access.namespace === undefined || !isClusterScoped(access.resource)) return access;
  return { verb: access.verb, resource: access.resource };
}

/**
 * Does `rule` allow `access`? A wildcard resource covers admin resources only when its verbs are
 * `*` too (§4); a namespace-pinned rule matches that namespace exactly and never a cluster-scoped request.
 */
export function ruleAllows(rule: Rule, requested: Access): boolean {
  const access = normalizeAccess(requested);
  const anyVerb = rule.verbs.includes('*');
  if (!anyVerb && !rule.verbs.includes(access.verb)) return false;
  if (rule.resource !== access.resource) {
    if (rule.resource !== '*') return false;
    if (isAdminResource(access.resource) && !anyVerb) return false;
  }
  return coversAllNamespaces(rule) || (access.namespace !== undefined && rule.namespace === access.namespace);
}

export interface Decision {
  allowed: boolean;
  decidedBy?: { policy: string; rule: Rule; index: number };
}

/** Union of policies, default deny: the first rule that allows decides. */
export function decide(policies: NamedRules[], access: Access): Decision {
  for (const policy of policies) {
    const index = policy.rules.findIndex((rule) => ruleAllows(rule, access));
    if (index >= 0) return { allowed: true, decidedBy: { policy: policy.name, rule: policy.rules[index]!, index } };
  }
  return { allowed: false };
}

/**
 * What a caller holds: its subject's rules and, when its token names policies, those too.
 * The effective rights are the intersection (§4): both sets must allow.
 */
export interface Holdings {
  subject: Rule[];
  token?: Rule[];
}

export function holds(h: Holdings, access: Access): boolean {
  // The same decision explain() reports: a rule of the subject and, when narrowed, one of the token.
  return allowsAny(h.subject, access) && (h.token === undefined || allowsAny(h.token, access));
}

const allowsAny = (rules: Rule[], access: Access) => rules.some((rule) => ruleAllows(rule, access));

/** Does a held rule cover one verb of a granted rule, over the granted rule's whole scope? */
function ruleCovers(held: Rule, verb: string, granted: Rule): boolean {
  const heldAnyVerb = held.verbs.includes('*');
  if (!heldAnyVerb && (verb === '*' || !held.verbs.includes(verb))) return false;
  if (held.resource === '*') {
    // Same reach rule as ruleAllows: `*` with listed verbs stops short of admin resources.
    if (isAdminResource(granted.resource) && !heldAnyVerb) return false;
  } else if (held.resource !== granted.resource) {
    return false;
  }
  if (coversAllNamespaces(held)) return true;
  return !coversAllNamespaces(granted) && held.namespace === granted.namespace;
}

const setCovers = (rules: Rule[], verb: string, granted: Rule) => rules.some((held) => ruleCovers(held, verb, granted));

/**
 * The part of `granted` that the caller does not hold, rule by rule (the escalation guard, §4).
 * An empty result means the grant is covered.
 */
export function missingRules(h: Holdings, granted: Rule[]): Rule[] {
  const missing: Rule[] = [];
  for (const rule of granted) {
    const verbs = rule.verbs.filter(
      (verb) => !(setCovers(h.subject, verb, rule) && (h.token === undefined || setCovers(h.token, verb, rule))),
    );
    if (verbs.length > 0) missing.push({ ...rule, verbs });
  }
  return missing;
}

export function describeRule(rule: Rule): string {
  return `[${rule.verbs.join(', ')}] on ${rule.resource} in ${rule.namespace ?? '*'}`;
}

export function describeAccess(access: Access): string {
  return `${access.verb} ${access.resource}${access.namespace ? ` in namespace ${access.namespace}` : ''}`;
}

/** Why a rule does not allow an access, one phrase per component that differs. */
export function ruleDifferences(rule: Rule, requested: Access): string[] {
  const access = normalizeAccess(requested);
  const out: string[] = [];
  const anyVerb = rule.verbs.includes('*');
  if (!anyVerb && !rule.verbs.includes(access.verb)) out.push(`verb "${access.verb}" is not among [${rule.verbs.join(', ')}]`);
  if (rule.resource !== access.resource) {
    if (rule.resource !== '*') out.push(`the rule is for "${rule.resource}", not "${access.resource}"`);
    else if (isAdminResource(access.resource) && !anyVerb) out.push(`"*" with listed verbs does not cover the admin resource "${access.resource}" (only verbs ["*"] do)`);
  }
  if (!coversAllNamespaces(rule) && rule.namespace !== access.namespace) {
    out.push(access.namespace === undefined
      ? `the rule is pinned to namespace "${rule.namespace}", and ${access.resource} is cluster-scoped`
      : `the rule is pinned to namespace "${rule.namespace}", not "${access.namespace}"`);
  }
  return out;
}

export interface RuleRef {
  policy: string;
  rule: Rule;
  index: number;
}

export interface Explanation {
  allowed: boolean;
  decidedBy?: RuleRef;
  reason: string;
  /** The rule that came nearest when nothing allowed, and what differs. */
  closest?: RuleRef & { differs: string[] };
}

function closestRule(policies: NamedRules[], access: Access): (RuleRef & { differs: string[] }) | undefined {
  let best: (RuleRef & { differs: string[] }) | undefined;
  for (const policy of policies) {
    policy.rules.forEach((rule, index) => {
      const differs = ruleDifferences(rule, access);
      if (!best || differs.length < best.differs.length) best = { policy: policy.name, rule, index, differs };
    });
  }
  return best;
}

/**
 * "Can this subject do that?" with the deciding policy and rule, or the closest miss. When the
 * token narrows the subject, both must allow; the answer says which side refused.
 */
export function explain(subjectPolicies: NamedRules[], requested: Access, tokenPolicies?: NamedRules[]): Explanation {
  const access = normalizeAccess(requested);
  const what = describeAccess(access);
  const bySubject = decide(subjectPolicies, access);
  if (!bySubject.allowed) {
    const closest = closestRule(subjectPolicies, access);
    const reason = subjectPolicies.length === 0
      ? `denied: the subject holds no policies, so nothing allows ${what}`
      : `denied: no rule in ${subjectPolicies.map((p) => p.name).join(', ')} allows ${what}${closest ? `; nearest is ${closest.policy} rule ${closest.index + 1} (${describeRule(closest.rule)}): ${closest.differs.join('; ')}` : ''}`;
    return closest ? { allowed: false, reason, closest } : { allowed: false, reason };
  }
  const decidedBy = bySubject.decidedBy!;
  const allowedBy = `${decidedBy.policy} rule ${decidedBy.index + 1} (${describeRule(decidedBy.rule)})`;
  if (tokenPolicies !== undefined) {
    const byToken = decide(tokenPolicies, access);
    if (!byToken.allowed) {
      const closest = closestRule(tokenPolicies, access);
      const names = tokenPolicies.map((p) => p.name).join(', ') || 'policies that no longer exist';
      const reason = `denied: ${allowedBy} allows ${what}, but the token is limited to ${names}, which do not${closest ? ` (nearest: ${closest.policy} rule ${closest.index + 1}: ${closest.differs.join('; ')})` : ''}`;
      return closest ? { allowed: false, decidedBy, reason, closest } : { allowed: false, decidedBy, reason };
    }
  }
  return { allowed: true, decidedBy, reason: `allowed by ${allowedBy}` };
}

/** A subject as "who can?" weighs it: its policies, and its live tokens grouped by narrowing. */
export interface WhoCanCandidate<S> {
  subject: S;
  policies: NamedRules[];
  /** `narrowing` undefined: the token carries its subject's rights; else the token's own policies. */
  tokens: { narrowing?: NamedRules[]; count: number }[];
}

export interface WhoCanGrant<S> {
  subject: S;
  via: RuleRef;
  /** Live tokens that carry the right: a narrowed one only if its narrowing allows it too. */
  tokens: number;
  liveTokens: number;
}

/**
 * "Who can do this?": every candidate whose policies allow `access`, with the deciding rule. The
 * same decisions explain() makes: the subject's policies, then each token's narrowing.
 */
export function whoCan<S>(candidates: Iterable<WhoCanCandidate<S>>, requested: Access): WhoCanGrant<S>[] {
  const access = normalizeAccess(requested);
  const out: WhoCanGrant<S>[] = [];
  for (const c of candidates) {
    const bySubject = decide(c.policies, access);
    if (!bySubject.allowed) continue;
    let tokens = 0;
    let liveTokens = 0;
    for (const t of c.tokens) {
      liveTokens += t.count;
      if (t.narrowing === undefined || decide(t.narrowing, access).allowed) tokens += t.count;
    }
    out.push({ subject: c.subject, via: bySubject.decidedBy!, tokens, liveTokens });
  }
  return out;
}
