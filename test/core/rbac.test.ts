import { describe, expect, it } from 'vitest';
import { BUILTIN_POLICIES } from '../../src/core/builtins.js';
import type { Rule } from '../../src/core/policy.js';
import { decide, explain, holds, missingRules, ruleAllows } from '../../src/core/rbac.js';

const builtin = (name: string) => BUILTIN_POLICIES.find((p) => p.name === name)!.rules;

describe('ruleAllows decision table', () => {
  const cases: [string, Rule, { verb: string; resource: string; namespace?: string }, boolean][] = [
    ['exact verb, resource and namespace', { resource: 'services', verbs: ['get'], namespace: 'dev' }, { verb: 'get', resource: 'services', namespace: 'dev' }, true],
    ['rule pinned to dev does not match dev-prod', { resource: 'services', verbs: ['get'], namespace: 'dev' }, { verb: 'get', resource: 'services', namespace: 'dev-prod' }, false],
    ['rule pinned to dev does not match prod', { resource: '*', verbs: ['*'], namespace: 'dev' }, { verb: 'get', resource: 'services', namespace: 'prod' }, false],
    ['rule pinned to dev does not match a cluster-scoped request', { resource: '*', verbs: ['*'], namespace: 'dev' }, { verb: 'list', resource: 'users' }, false],
    ['namespace * matches any namespace', { resource: 'services', verbs: ['get'], namespace: '*' }, { verb: 'get', resource: 'services', namespace: 'x' }, true],
    ['omitted namespace matches any namespace', { resource: 'services', verbs: ['get'] }, { verb: 'get', resource: 'services', namespace: 'x' }, true],
    ['other verb is denied', { resource: 'services', verbs: ['get'], namespace: '*' }, { verb: 'delete', resource: 'services', namespace: 'x' }, false],
    ['other resource is denied', { resource: 'services', verbs: ['get'], namespace: '*' }, { verb: 'get', resource: 'secrets', namespace: 'x' }, false],
    ['* resource with listed verbs covers workloads', { resource: '*', verbs: ['list'], namespace: '*' }, { verb: 'list', resource: 'services', namespace: 'x' }, true],
    ['* resource with listed verbs does not cover users', { resource: '*', verbs: ['list'], namespace: '*' }, { verb: 'list', resource: 'users' }, false],
    ['* resource with listed verbs does not cover tokens', { resource: '*', verbs: ['get', 'list', 'create'], namespace: '*' }, { verb: 'create', resource: 'tokens' }, false],
    ['* resource with * verbs covers admin resources', { resource: '*', verbs: ['*'], namespace: '*' }, { verb: 'delete', resource: 'policies' }, true],
    ['a named admin resource can be delegated', { resource: 'users', verbs: ['list'], namespace: '*' }, { verb: 'list', resource: 'users' }, true],
  ];
  it.each(cases)('%s', (_name, rule, access, allowed) => expect(ruleAllows(rule, access)).toBe(allowed));
});

describe('built-in policies', () => {
  it.each([
    ['readwrite', { verb: 'list', resource: 'users' }, false],
    ['readwrite', { verb: 'scale', resource: 'services', namespace: 'prod' }, true],
    ['readonly', { verb: 'delete', resource: 'services', namespace: 'prod' }, false],
    ['readonly', { verb: 'watch', resource: 'instances', namespace: 'prod' }, true],
    ['cast', { verb: 'create', resource: 'namespaces' }, true],
    ['cast', { verb: 'delete', resource: 'services', namespace: 'stg' }, false],
    ['cast', { verb: 'get', resource: 'logs', namespace: 'stg' }, true],
    ['admin', { verb: 'escalate', resource: 'policies' }, true],
  ] as const)('%s: %o → %s', (name, access, allowed) =>
    expect(decide([{ name, rules: builtin(name) }], access).allowed).toBe(allowed),
  );

  it('names the deciding policy and rule', () => {
    const d = decide([{ name: 'readonly', rules: builtin('readonly') }, { name: 'cast', rules: builtin('cast') }], { verb: 'create', resource: 'services', namespace: 'x' });
    expect(d).toMatchObject({ allowed: true, decidedBy: { policy: 'cast', index: 0 } });
  });
});

describe('token narrowing: rights are the intersection', () => {
  it('a root subject with a readonly token cannot delete', () => {
    const h = { subject: builtin('root'), token: builtin('readonly') };
    expect(holds(h, { verb: 'get', resource: 'services', namespace: 'a' })).toBe(true);
    expect(holds(h, { verb: 'delete', resource: 'services', namespace: 'a' })).toBe(false);
    expect(holds(h, { verb: 'list', resource: 'users' })).toBe(false);
  });
  it('a token whose narrowing policies are gone holds nothing', () => {
    expect(holds({ subject: builtin('root'), token: [] }, { verb: 'get', resource: 'services', namespace: 'a' })).toBe(false);
  });
});

describe('missingRules (escalation guard)', () => {
  it('readwrite holder cannot grant admin: the missing rule is listed', () => {
    expect(missingRules({ subject: builtin('readwrite') }, builtin('admin'))).toEqual([{ resource: '*', verbs: ['*'], namespace: '*' }]);
  });
  it('readwrite holder can grant readonly and cast', () => {
    expect(missingRules({ subject: builtin('readwrite') }, builtin('readonly'))).toEqual([]);
    expect(missingRules({ subject: builtin('readwrite') }, builtin('cast'))).toEqual([]);
  });
  it('only the verbs not held are reported', () => {
    const held: Rule[] = [{ resource: 'users', verbs: ['get', 'list'], namespace: '*' }];
    expect(missingRules({ subject: held }, [{ resource: 'users', verbs: ['get', 'delete'], namespace: '*' }])).toEqual([
      { resource: 'users', verbs: ['delete'], namespace: '*' },
    ]);
  });
  it('a holder pinned to dev can grant dev but not prod or every namespace', () => {
    const held: Rule[] = [{ resource: '*', verbs: ['get'], namespace: 'dev' }];
    expect(missingRules({ subject: held }, [{ resource: 'services', verbs: ['get'], namespace: 'dev' }])).toEqual([]);
    expect(missingRules({ subject: held }, [{ resource: 'services', verbs: ['get'], namespace: 'dev-prod' }])).toHaveLength(1);
    expect(missingRules({ subject: held }, [{ resource: 'services', verbs: ['get'] }])).toHaveLength(1);
  });
  it('* on * with listed verbs cannot grant an admin resource', () => {
    expect(missingRules({ subject: builtin('readwrite') }, [{ resource: 'users', verbs: ['get'], namespace: '*' }])).toHaveLength(1);
  });
  it('the token narrowing applies to what can be granted', () => {
    expect(missingRules({ subject: builtin('root'), token: builtin('readonly') }, builtin('readwrite'))).toHaveLength(1);
  });
});

describe('explain and enforcement agree on cluster-scoped resources', () => {
  const pinned: Rule[] = [{ resource: 'users', verbs: ['list'], namespace: 'dev' }];
  it.each([
    ['users', 'dev'],
    ['users', undefined],
    ['namespaces', 'dev'],
    ['tokens', 'prod'],
  ])('list %s in %s: holds and explain give one answer', (resource, namespace) => {
    const access = namespace ? { verb: 'list', resource, namespace } : { verb: 'list', resource };
    const rules: Rule[] = [...pinned, { resource: 'namespaces', verbs: ['list'], namespace: 'dev' }];
    expect(explain([{ name: 'p', rules }], access).allowed).toBe(holds({ subject: rules }, access));
    expect(holds({ subject: rules }, access)).toBe(false);
  });
  it('a namespace given for a cluster-scoped resource does not matter to an unpinned rule', () => {
    const rules: Rule[] = [{ resource: 'users', verbs: ['list'] }];
    expect(holds({ subject: rules }, { verb: 'list', resource: 'users', namespace: 'dev' })).toBe(true);
    expect(explain([{ name: 'p', rules }], { verb: 'list', resource: 'users', namespace: 'dev' }).allowed).toBe(true);
  });
});
