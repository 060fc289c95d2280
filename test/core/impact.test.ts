import { describe, expect, it } from 'vitest';
import { describeRight, policyImpact, summarizeImpact, type ImpactCandidate } from '../../src/core/impact.js';
import type { Rule } from '../../src/core/policy.js';

const r = (resource: string, verbs: string[], namespace?: string): Rule => ({ resource, verbs, ...(namespace !== undefined ? { namespace } : {}) });
const holder = (name: string, otherRules: Rule[] = [], tokens = 1): ImpactCandidate<{ name: string }> => ({ subject: { name }, holds: true, otherRules, tokens: [{ count: tokens }] });
const show = (before: Rule[] | undefined, after: Rule[], candidates: ImpactCandidate<{ name: string }>[]) =>
  policyImpact(before, after, candidates).subjects.map((s) => `${s.subject.name}: ${[...s.gains.map((g) => `+${describeRight(g)}`), ...s.loses.map((l) => `-${describeRight(l)}`)].join(', ') || 'none'}`);

/** Each row: the stored rules, the new ones, what the holder holds elsewhere, and its change. */
const TABLE: [string, Rule[], Rule[], Rule[], string][] = [
  ['a verb added', [r('services', ['get'], 'dev')], [r('services', ['get', 'delete'], 'dev')], [], '+delete services in dev'],
  ['a verb removed', [r('services', ['get', 'list'], 'dev')], [r('services', ['get'], 'dev')], [], '-list services in dev'],
  ['namespace moved', [r('services', ['get'], 'dev')], [r('services', ['get'], 'prod')], [], '+get services in prod, -get services in dev'],
  ['namespace widened', [r('services', ['get'], 'dev')], [r('services', ['get'], '*')], [], '+get services in every namespace'],
  ['namespace narrowed', [r('services', ['get'])], [r('services', ['get'], 'dev')], [], '-get services in every namespace'],
  ['held elsewhere (same rule)', [], [r('services', ['delete'], 'prod')], [r('services', ['delete'], 'prod')], 'none'],
  ['held elsewhere (a wider rule)', [r('secrets', ['list'])], [], [r('*', ['get', 'list'])], 'none'],
  ['held elsewhere for one namespace only', [], [r('services', ['get'], '*')], [r('services', ['get'], 'dev')], '+get services in every namespace'],
  ['"*" verbs on "*": admin resources too', [], [r('*', ['*'])], [r('*', ['get', 'list'])], '+all verbs on all resources in every namespace'],
  ['listed verbs on "*" do not reach users', [], [r('users', ['list'])], [r('*', ['list'])], '+list users'],
  ['a cluster-scoped resource has no namespace', [r('namespaces', ['create'])], [], [], '-create namespaces'],
  ['rules reordered: nothing', [r('a', ['get']), r('b', ['get'])], [r('b', ['get']), r('a', ['get'])], [], 'none'],
];

describe('policy impact, right by right', () => {
  it.each(TABLE)('%s', (_what, before, after, elsewhere, expected) => {
    expect(show(before, after, [holder('alice', elsewhere)])).toEqual([`alice: ${expected}`]);
  });

  it('rules added and removed are the text diff; order and verb order do not count', () => {
    const impact = policyImpact([r('a', ['get', 'list']), r('b', ['get'])], [r('b', ['get']), r('a', ['list', 'get']), r('c', ['get'])], []);
    expect(impact.added).toEqual([r('c', ['get'])]);
    expect(impact.removed).toEqual([]);
  });

  it('a narrowed token changes only where both its subject and its narrowing allow', () => {
    // The subject holds readwrite-like rights elsewhere; the token is narrowed to this policy and another.
    const c: ImpactCandidate<{ name: string }> = {
      subject: { name: 'carol' },
      holds: false,
      otherRules: [r('*', ['get', 'list', 'delete'])],
      tokens: [
        { count: 3 },
        { count: 2, narrowedTo: ['ops', 'logs'], otherRules: [r('logs', ['get'])], narrowedToThis: true },
      ],
    };
    const impact = policyImpact([r('services', ['get'], 'dev')], [r('services', ['get', 'delete'], 'dev'), r('users', ['list'])], [c]);
    // The subject does not hold the policy: its own rights do not move, nor do its un-narrowed tokens.
    expect(impact.subjects[0]).toMatchObject({ gains: [], loses: [], tokens: 2 });
    // users: the subject's "*" with listed verbs does not reach an admin resource, so the token gains delete only.
    expect(impact.subjects[0]!.narrowedTokens).toEqual([{ narrowedTo: ['ops', 'logs'], count: 2, gains: [r('services', ['delete'], 'dev')], loses: [] }]);
  });

  it('summarises: same changes on one line, token counts, narrowed tokens, and who is unaffected', () => {
    const lines = summarizeImpact('ops', true, policyImpact([r('secrets', ['list'])], [r('services', ['delete'], 'prod')], [holder('alice', [], 0), holder('ci-stg', [], 2), holder('bob', [r('*', ['*'])])]));
    expect(lines).toEqual([
      'rule added:   [delete] on services in prod',
      'rule removed: [list] on secrets in *',
      'alice, ci-stg (2 tokens): + delete services in prod; \u2212 list secrets in every namespace',
      'no change for bob',
    ]);
    expect(summarizeImpact('fresh', false, policyImpact(undefined, [r('logs', ['get'])], []))).toEqual(['rule added:   [get] on logs in *', 'fresh is new: nobody holds it yet, so no one\'s rights change']);
    expect(summarizeImpact('idle', true, policyImpact([r('logs', ['get'])], [], []))).toEqual(['rule removed: [get] on logs in *', 'nobody holds idle and no token is narrowed to it: no one\'s rights change']);
  });
});
