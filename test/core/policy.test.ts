import { describe, expect, it } from 'vitest';
import { lintPolicyText, policyToYaml, validatePolicy } from '../../src/core/policy.js';

describe('policy lint', () => {
  it('accepts the seed example, warning about the unknown resource "service"', () => {
    const r = lintPolicyText(`name: editor-prod
description: Edit services in 'prod' only
rules:
- resource: service
  verbs: [get, list, watch, create, update, delete, scale, exec]
  namespace: prod
`);
    expect(r.valid).toBe(true);
    expect(r.warnings).toEqual([{ line: 4, column: 3, path: 'rules[0].resource', message: 'unknown resource "service" (did you mean "services"?)' }]);
    expect(r.policy?.rules[0]).toEqual({ resource: 'service', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete', 'scale', 'exec'], namespace: 'prod' });
  });

  it('reports YAML syntax errors with line and column', () => {
    const r = lintPolicyText('name: a\nrules:\n  - resource: services\n    verbs: [get\n');
    expect(r.valid).toBe(false);
    expect(r.errors[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
    expect(r.errors[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('points an unknown field at its line:column with a suggestion', () => {
    const r = lintPolicyText('name: a\nrules:\n  - resource: services\n    verb: [get]\n    namespace: dev\n');
    expect(r.errors).toContainEqual({ line: 4, column: 5, path: 'rules[0].verb', message: 'unknown field "verb" (did you mean "verbs"?)' });
  });

  it('warns about a rule without namespace, an unknown verb and a duplicate rule', () => {
    const r = lintPolicyText(`name: a
rules:
  - resource: services
    verbs: [get, lsit]
  - resource: services
    verbs: [lsit, get]
`);
    expect(r.valid).toBe(true);
    const messages = r.warnings.map((w) => `${w.line}:${w.column} ${w.message}`);
    expect(messages).toContain('3:5 rule without namespace applies to all namespaces (write namespace: "*" to say so)');
    expect(messages).toContain('4:18 unknown verb "lsit" (did you mean "list"?)');
    expect(messages).toContain('5:5 duplicate of rules[0]');
  });

  it.each([
    ['a list', '- a\n- b\n', 'a policy must be a mapping'],
    ['no name', 'rules: []\n', 'name is required'],
    ['a bad name', 'name: Bad_Name\nrules: []\n', 'name "Bad_Name" must consist of lowercase'],
    ['rules not a list', 'name: a\nrules: {}\n', 'rules must be a list'],
    ['empty verbs', 'name: a\nrules:\n  - resource: x\n    verbs: []\n    namespace: dev\n', 'verbs must not be empty'],
    ['a bad namespace', 'name: a\nrules:\n  - resource: x\n    verbs: [get]\n    namespace: Dev!\n', 'namespace "Dev!"'],
    ['an empty document', '', 'the document is empty'],
    ['a duplicate key', 'name: a\nname: b\nrules: []\n', 'Map keys must be unique'],
  ])('refuses %s', (_what, text, message) => {
    const r = lintPolicyText(text);
    expect(r.valid).toBe(false);
    expect(r.errors.map((e) => e.message).join('\n')).toContain(message);
  });

  it('validates JSON objects with paths but no positions', () => {
    const r = validatePolicy({ name: 'a', rules: [{ resource: 'services', verbs: 'get' }] });
    expect(r.errors).toEqual([{ path: 'rules[0].verbs', message: 'verbs is required and must be a list, e.g. [get, list] or ["*"]' }]);
  });

  it('round-trips through policyToYaml', () => {
    const policy = { name: 'p', description: 'd: with colon', rules: [{ resource: '*', verbs: ['get'], namespace: 'dev' }] };
    expect(lintPolicyText(policyToYaml(policy)).policy).toEqual(policy);
  });

  it('a rule of more verbs than there could be is refused, not linted verb by verb; duplicates still warn', () => {
    const many = validatePolicy({ name: 'p', rules: [{ resource: 'services', namespace: '*', verbs: Array.from({ length: 200_000 }, (_, i) => `v${i}`) }] });
    expect(many.valid).toBe(false);
    expect(many.errors).toEqual([{ path: 'rules[0].verbs', message: 'a rule lists at most 64 verbs, not 200000' }]);
    const twice = validatePolicy({ name: 'p', rules: [{ resource: 'services', namespace: '*', verbs: ['get', 'list', 'get'] }] });
    expect(twice.warnings.map((w) => w.message)).toEqual(['verb "get" is listed twice']);
  });

  it('an unknown field a megabyte long is named by its start and length, and costs no "did you mean" over all of it', () => {
    const key = 'x'.repeat(1_000_000);
    const r = validatePolicy({ name: 'p', rules: [], [key]: 1 });
    expect(r.errors.map((e) => e.message)).toEqual([`unknown field "${'x'.repeat(100)}… (1000000 characters)"`]);
  });

  it('text no store can hold is refused wherever YAML lets it in: an escape in a value, a raw NUL in the text', () => {
    const escaped = lintPolicyText('name: p\ndescription: "a\\0b"\nrules:\n  - resource: "svc\\ud800"\n    verbs: ["get\\0"]\n    namespace: "*"\n');
    expect(escaped.valid).toBe(false);
    expect(escaped.errors.map((e) => e.path)).toEqual(['description', 'rules[0].resource', 'rules[0].verbs[0]']);
    for (const e of escaped.errors) expect(e.message).toMatch(/holds a NUL character or a lone surrogate, which cannot be stored/);
    const raw = lintPolicyText('name: p\ndescription: a\u0000b\nrules: []\n');
    expect(raw.errors).toEqual([{ path: '(document)', message: 'the policy text holds a NUL character or a lone surrogate, which cannot be stored' }]);
  });
});
