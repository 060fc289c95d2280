import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed } from '../helpers/runed.js';

const OPS = [
  { resource: 'services', verbs: ['get', 'list'], namespace: 'dev' },
  { resource: 'secrets', verbs: ['list'], namespace: '*' },
];
const yamlOf = (name: string, rules: { resource: string; verbs: string[]; namespace?: string }[], description = '') =>
  `name: ${name}\ndescription: "${description}"\nrules:\n${rules.map((r) => `  - resource: "${r.resource}"\n    verbs: [${r.verbs.map((v) => JSON.stringify(v)).join(', ')}]\n${r.namespace ? `    namespace: "${r.namespace}"\n` : ''}`).join('')}`;

describe('POST /v1/policies/:name/impact: who gains and who loses which rights', () => {
  let runed: Runed;
  let root: string;
  let readonlyUser: string;

  const as = async (method: string, path: string, body?: unknown) => {
    const res = await runed.request(method, path, { token: root, ...(body !== undefined ? { body } : {}) });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  const impact = (name: string, text: string, token = root) => runed.request('POST', `/v1/policies/${name}/impact`, { token, raw: { contentType: 'application/yaml', data: text } });
  const summaryOf = async (name: string, text: string) => {
    const res = await impact(name, text);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    runed = await Runed.start();
    root = await runed.bootstrap();
    await as('POST', '/v1/namespaces', { name: 'stg' });
    await as('POST', '/v1/policies', { name: 'ops', rules: OPS });
    // alice holds ops alone, with two live tokens and a disabled one.
    await runed.userWithToken(root, 'alice', ['ops']);
    await as('POST', '/v1/tokens', { name: 'second', subjectName: 'alice' });
    const off = await as('POST', '/v1/tokens', { name: 'off', subjectName: 'alice' });
    await as('PATCH', `/v1/tokens/${off.token.id}`, { enabled: false });
    // ci-stg: cast pinned to stg, plus ops; two tokens.
    await as('POST', '/v1/serviceaccounts', { name: 'ci-stg', namespace: 'stg', permissions: ['cast'] });
    await as('PUT', '/v1/serviceaccounts/ci-stg/policies/ops');
    await as('POST', '/v1/tokens', { name: 'ci-2', subjectName: 'ci-stg' });
    // bob holds everything ops grants through readwrite too.
    await runed.userWithToken(root, 'bob', ['ops', 'readwrite']);
    // carol likewise, but her token is narrowed to ops.
    await runed.userWithToken(root, 'carol', ['readwrite', 'ops'], { policies: ['ops'] });
    // dave's token is narrowed to ops, which dave no longer holds.
    await runed.userWithToken(root, 'dave', ['readwrite'], { policies: ['ops'] });
    await as('DELETE', '/v1/users/dave/policies/ops');
    readonlyUser = await runed.userWithToken(root, 'reader', ['readonly']);
  }, 60_000);
  afterAll(async () => runed.cleanup());

  it('a rule added and a rule removed: holders and narrowed tokens gain and lose, grouped; a subject holding it elsewhere does not', async () => {
    const next = [OPS[0]!, { resource: 'services', verbs: ['delete'], namespace: 'prod' }];
    const r = await summaryOf('ops', yamlOf('ops', next));
    expect(r).toMatchObject({ policy: 'ops', exists: true, added: [next[1]], removed: [OPS[1]] });
    const byName = Object.fromEntries(r.subjects.map((s: { name: string }) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(['alice', 'bob', 'carol', 'ci-stg', 'dave']);
    const change = { gains: [{ resource: 'services', verbs: ['delete'], namespace: 'prod' }], loses: [{ resource: 'secrets', verbs: ['list'], namespace: '*' }] };
    expect(byName.alice).toMatchObject({ type: 'user', holds: true, ...change, tokens: 2, narrowedTokens: [] });
    expect(byName['ci-stg']).toMatchObject({ type: 'service', holds: true, ...change, tokens: 2 });
    expect(byName.bob).toMatchObject({ holds: true, gains: [], loses: [], tokens: 0 });
    expect(byName.carol).toMatchObject({ holds: true, gains: [], loses: [], tokens: 1, narrowedTokens: [{ narrowedTo: ['ops'], count: 1, ...change }] });
    expect(byName.dave).toMatchObject({ holds: false, gains: [], loses: [], tokens: 1, narrowedTokens: [{ narrowedTo: ['ops'], count: 1, ...change }] });
    expect(r.summary).toEqual([
      'rule added:   [delete] on services in prod',
      'rule removed: [list] on secrets in *',
      "alice (2 tokens), carol's 1 token narrowed to ops, ci-stg (2 tokens), dave's 1 token narrowed to ops: + delete services in prod; \u2212 list secrets in every namespace",
      'no change for bob',
    ]);
  });

  it('a changed namespace: the rights move from one namespace to the other', async () => {
    const r = await summaryOf('ops', yamlOf('ops', [{ ...OPS[0]!, namespace: 'prod' }, OPS[1]!]));
    expect(r.summary).toContain("alice (2 tokens), carol's 1 token narrowed to ops, ci-stg (2 tokens), dave's 1 token narrowed to ops: + get, list services in prod; \u2212 get, list services in dev");
  });

  it('a right another policy already grants: "no change" for that subject only', async () => {
    // cast pinned to stg already lets ci-stg create services in stg.
    const r = await summaryOf('ops', yamlOf('ops', [...OPS, { resource: 'services', verbs: ['create'], namespace: 'stg' }]));
    expect(r.summary).toEqual([
      'rule added:   [create] on services in stg',
      "alice (2 tokens), carol's 1 token narrowed to ops, dave's 1 token narrowed to ops: + create services in stg",
      'no change for bob, ci-stg',
    ]);
  });

  it('a wider namespace covers the narrower one: only the gain is reported', async () => {
    const r = await summaryOf('ops', yamlOf('ops', [{ ...OPS[0]!, namespace: '*' }, OPS[1]!]));
    const alice = r.subjects.find((s: { name: string }) => s.name === 'alice');
    expect(alice).toMatchObject({ gains: [{ resource: 'services', verbs: ['get', 'list'], namespace: '*' }], loses: [] });
  });

  it('a description-only change and a new policy change no one\'s rights', async () => {
    const same = await summaryOf('ops', yamlOf('ops', OPS, 'reworded'));
    expect(same.summary).toEqual(['ops: no rule changes', 'no change for alice, bob, carol, ci-stg, dave']);
    const fresh = await summaryOf('fresh', yamlOf('fresh', [{ resource: 'logs', verbs: ['get'], namespace: 'stg' }]));
    expect(fresh).toMatchObject({ exists: false, added: [{ resource: 'logs' }], removed: [], subjects: [] });
    expect(fresh.summary).toEqual(['rule added:   [get] on logs in stg', 'fresh is new: nobody holds it yet, so no one\'s rights change']);
    // JSON bodies work as for PUT.
    const json = await runed.request('POST', '/v1/policies/ops/impact', { token: root, body: { name: 'ops', rules: OPS.slice(0, 1) } });
    expect(json.body.removed).toEqual([OPS[1]]);
  });

  it('is a dry run: nothing is saved and nothing is written to the audit trail as a change', async () => {
    const before = await as('GET', '/v1/policies/ops');
    const changes = async () => (await as('GET', '/v1/audit?resource=policies&outcome=success&limit=1000')).items.length;
    const auditBefore = await changes();
    await summaryOf('ops', yamlOf('ops', [{ resource: '*', verbs: ['*'] }]));
    await summaryOf('fresh', yamlOf('fresh', OPS));
    expect(await as('GET', '/v1/policies/ops')).toEqual(before);
    expect((await runed.request('GET', '/v1/policies/fresh', { token: root })).status).toBe(404);
    expect(await changes()).toBe(auditBefore);
  });

  it('who may ask: those who may read and write the policy; bad documents are refused as PUT refuses them', async () => {
    const text = yamlOf('ops', OPS);
    expect((await impact('ops', text, readonlyUser)).status).toBe(403);
    await as('POST', '/v1/policies', { name: 'pol-reader', rules: [{ resource: 'policies', verbs: ['get', 'list'] }] });
    const policyReader = await runed.userWithToken(root, 'pol-reader-user', ['pol-reader']);
    const denied = await impact('ops', text, policyReader);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toContain('missing permission "update" on "policies"');
    // A policy writer without "escalate" may ask, and is told the save would be refused.
    await as('POST', '/v1/policies', { name: 'pol-writer', rules: [{ resource: 'policies', verbs: ['get', 'list', 'create', 'update'] }, { resource: 'services', verbs: ['get', 'list'], namespace: 'dev' }] });
    const writer = await runed.userWithToken(root, 'pol-writer-user', ['pol-writer']);
    const told = await impact('ops', yamlOf('ops', [OPS[0]!, { resource: 'services', verbs: ['delete'], namespace: 'prod' }]), writer);
    expect(told.status).toBe(200);
    expect(told.body.missingRules).toEqual([{ resource: 'services', verbs: ['delete'], namespace: 'prod' }]);
    expect(told.body.summary.at(-1)).toBe('saving would be refused: it grants rules you do not hold: [delete] on services in prod');
    expect((await runed.request('PUT', '/v1/policies/ops', { token: writer, raw: { contentType: 'application/yaml', data: yamlOf('ops', [OPS[0]!, { resource: 'services', verbs: ['delete'], namespace: 'prod' }]) } })).status).toBe(403);
    expect((await impact('ops', yamlOf('ops', [OPS[0]!]), writer)).body.missingRules).toBeUndefined();
    const narrowedRoot = (await as('POST', '/v1/tokens', { name: 'ro', policies: ['readonly'] })).secret;
    expect((await impact('ops', text, narrowedRoot)).status).toBe(403);
    expect((await impact('ops', text, 'rune_tok_nope')).status).toBe(401);
    expect((await impact('readonly', yamlOf('readonly', OPS))).status).toBe(409);
    const renamed = await impact('ops', yamlOf('other', OPS));
    expect(renamed.status).toBe(400);
    expect(renamed.body.error.message).toContain('a policy cannot be renamed');
    const broken = await impact('ops', 'name: ops\nrules:\n  - resource: services\n    verb: [get]\n');
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/line 4, column 5/);
  });

  it('DELETE ?dryRun=true says who would lose which rights and deletes nothing; the delete itself answers the same', async () => {
    const DOOMED = [{ resource: 'configmaps', verbs: ['get', 'list'], namespace: 'dev' }];
    await as('POST', '/v1/policies', { name: 'doomed', rules: DOOMED });
    await as('POST', '/v1/policies', { name: 'doomed-twin', rules: DOOMED });
    await runed.userWithToken(root, 'erin', ['doomed']);
    await runed.userWithToken(root, 'frank', ['doomed', 'doomed-twin']);
    // gina's token is narrowed to doomed: a narrowing policy that is gone grants nothing.
    await runed.userWithToken(root, 'gina', ['doomed-twin', 'doomed'], { policies: ['doomed'] });
    await as('DELETE', '/v1/users/gina/policies/doomed');
    const audited = async () => (await as('GET', '/v1/audit?resource=policies&action=delete&outcome=success&limit=1000')).items.length;
    const auditBefore = await audited();
    const loses = { gains: [], loses: DOOMED };

    const dry = await runed.request('DELETE', '/v1/policies/doomed?dryRun=true', { token: root });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, policy: { name: 'doomed' }, impact: { policy: 'doomed', exists: true, added: [], removed: DOOMED } });
    expect(dry.body.detachedFrom.map((h: { name: string }) => h.name).sort()).toEqual(['erin', 'frank']);
    const byName = Object.fromEntries(dry.body.impact.subjects.map((s: { name: string }) => [s.name, s]));
    expect(byName.erin).toMatchObject({ holds: true, ...loses, tokens: 1 });
    expect(byName.frank).toMatchObject({ holds: true, gains: [], loses: [] });
    expect(byName.gina).toMatchObject({ holds: false, narrowedTokens: [{ narrowedTo: ['doomed'], count: 1, ...loses }] });
    expect(dry.body.impact.summary).toEqual([
      'rule removed: [get, list] on configmaps in dev',
      "erin (1 token), gina's 1 token narrowed to doomed: \u2212 get, list configmaps in dev",
      'no change for frank',
    ]);
    expect((await as('GET', '/v1/policies/doomed')).name).toBe('doomed');
    expect(await audited()).toBe(auditBefore);

    // Who may ask: who may delete it. A bad value of dryRun is refused, naming it.
    expect((await runed.request('DELETE', '/v1/policies/doomed?dryRun=true', { token: readonlyUser })).status).toBe(403);
    const bad = await runed.request('DELETE', '/v1/policies/doomed?dryRun=yes', { token: root });
    expect([bad.status, bad.body.error.details?.field]).toEqual([400, 'dryRun']);
    expect((await as('GET', '/v1/policies/doomed')).name).toBe('doomed');

    const done = await runed.request('DELETE', '/v1/policies/doomed', { token: root });
    expect(done.status).toBe(200);
    expect(done.body.dryRun).toBeUndefined();
    expect(done.body.impact).toEqual(dry.body.impact);
    expect((await runed.request('GET', '/v1/policies/doomed', { token: root })).status).toBe(404);
    expect(await audited()).toBe(auditBefore + 1);
  });

  describe('the CLI', () => {
    let cli: Cli;
    beforeAll(() => {
      cli = new Cli({ RUNE_SERVER: runed.url, RUNE_TOKEN: root });
    });

    it('policy apply --dry-run prints the impact and saves nothing', async () => {
      writeFileSync(join(cli.home, 'ops.yaml'), yamlOf('ops', [OPS[0]!, { resource: 'services', verbs: ['delete'], namespace: 'prod' }]));
      const before = await as('GET', '/v1/policies/ops');
      const out = cli.ok(['admin', 'policy', 'apply', '-f', 'ops.yaml', '--dry-run']);
      expect(out).toBe(
        'rule added:   [delete] on services in prod\nrule removed: [list] on secrets in *\n' +
          "alice (2 tokens), carol's 1 token narrowed to ops, ci-stg (2 tokens), dave's 1 token narrowed to ops: + delete services in prod; \u2212 list secrets in every namespace\n" +
          'no change for bob\ndry run: policy/ops not changed\n',
      );
      const json = JSON.parse(cli.ok(['admin', 'policy', 'apply', '-f', 'ops.yaml', '--dry-run', '-o', 'json']));
      expect(json).toMatchObject({ policy: 'ops', exists: true, removed: [OPS[1]] });
      writeFileSync(join(cli.home, 'new.yaml'), yamlOf('brand-new', OPS));
      expect(cli.ok(['admin', 'policy', 'apply', '-f', 'new.yaml', '--dry-run'])).toMatch(/brand-new is new: nobody holds it yet.*\ndry run: policy\/brand-new not created\n$/);
      expect(await as('GET', '/v1/policies/ops')).toEqual(before);
      expect((await runed.request('GET', '/v1/policies/brand-new', { token: root })).status).toBe(404);
    });

    it('policy apply prints the impact on stderr, then saves; stdout stays as before', async () => {
      writeFileSync(join(cli.home, 'ops.yaml'), yamlOf('ops', [...OPS, { resource: 'logs', verbs: ['get'], namespace: 'stg' }]));
      const r = cli.run(['admin', 'policy', 'apply', '-f', 'ops.yaml']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('policy/ops configured\n');
      // ci-stg reads logs in stg through cast already.
      expect(r.stderr).toBe("impact: rule added:   [get] on logs in stg\nimpact: alice (2 tokens), carol's 1 token narrowed to ops, dave's 1 token narrowed to ops: + get logs in stg\nimpact: no change for bob, ci-stg\n");
      expect((await as('GET', '/v1/policies/ops')).rules).toHaveLength(3);
      // Saving the same document again: the impact says nothing changes.
      expect(cli.run(['admin', 'policy', 'apply', '-f', 'ops.yaml']).stderr).toContain('impact: ops: no rule changes\n');
    });

    it('policy delete --dry-run prints who would lose what and deletes nothing; policy delete prints it on stderr', async () => {
      await as('POST', '/v1/policies', { name: 'short-term', rules: [{ resource: 'jobs', verbs: ['create'], namespace: 'stg' }] });
      await runed.userWithToken(root, 'hank', ['short-term']);
      const out = cli.ok(['admin', 'policy', 'delete', 'short-term', '--dry-run']);
      expect(out).toBe('rule removed: [create] on jobs in stg\nhank (1 token): \u2212 create jobs in stg\ndry run: policy/short-term not deleted (it would be detached from user hank)\n');
      expect(JSON.parse(cli.ok(['admin', 'policy', 'delete', 'short-term', '--dry-run', '-o', 'json']))).toMatchObject({ dryRun: true, impact: { removed: [{ resource: 'jobs' }] } });
      expect((await as('GET', '/v1/policies/short-term')).name).toBe('short-term');
      const r = cli.run(['admin', 'policy', 'delete', 'short-term']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('policy/short-term deleted (detached from user hank)\n');
      expect(r.stderr).toBe('impact: rule removed: [create] on jobs in stg\nimpact: hank (1 token): \u2212 create jobs in stg\n');
      expect((await runed.request('GET', '/v1/policies/short-term', { token: root })).status).toBe(404);
    });

    it('policy edit prints the impact of the edited text when it saves', async () => {
      const script = join(cli.home, 'drop-logs.sh');
      writeFileSync(script, '#!/bin/sh\nsed -i \'/logs/,$d\' "$1"\n');
      chmodSync(script, 0o755);
      const r = cli.run(['admin', 'policy', 'edit', 'ops'], { env: { EDITOR: script } });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toBe('policy/ops edited\n');
      expect(r.stderr).toContain('impact: rule removed: [get] on logs in stg\n');
      expect(r.stderr).toContain(': \u2212 get logs in stg\n');
      expect((await as('GET', '/v1/policies/ops')).rules).toEqual(OPS);
    });
  });
});
