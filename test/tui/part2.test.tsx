import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/App.js';
import { KEYS, localContext, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

let runed: Runed;
let root: string;
let dir: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  dir = mkdtempSync(join(tmpdir(), 'rune-tui2-'));
  await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'stg' } });
});
afterAll(async () => runed.cleanup());

const store = () => localContext(dir, runed.url, root);

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});
const open = async (screen: string, size = { columns: 80, rows: 24 }) => {
  app = renderTui(<App store={store()} env={{}} />, size);
  await app.waitFor('as:root');
  await app.press(screen);
  return app;
};
const CTRL_S = '\x13';

describe('policies and the YAML editor', () => {
  it('new policy: errors at the right line while typing, the diff before saving, saved on y', async () => {
    const t = await open('4');
    await t.waitFor('4:Policies');
    await t.press('n');
    await t.waitFor('New policy');
    // Line 4 is "  - resource: services": type a field that does not exist after it.
    await t.press(KEYS.down, KEYS.down, KEYS.down);
    await t.press('\x1b[F'); // End
    await t.press(KEYS.enter);
    await t.type('verb: [get]');
    await t.waitFor(/5✗\s+verb: \[get\]/); // at once, from the local rules
    const frame = await t.waitFor('error(s) (runed)'); // then confirmed by the daemon's lint
    expect(frame).toMatch(/error\(s\) \(runed\), first at line 5, column 5:\nunknown field "verb" \(did you mean "verbs"\?\)/);
    expect(frame).toMatch(/5✗\s+verb: \[get\]/);
    await t.press(CTRL_S);
    await t.waitFor('fix the errors first');
    for (let i = 0; i < 'verb: [get]'.length; i++) await t.press(KEYS.backspace);
    await t.press(KEYS.backspace);
    await t.waitFor((f) => /valid/.test(f) && !f.includes('✗'));
    await t.press(CTRL_S);
    await t.waitFor('changes to save');
    expect(t.frame()).toContain('+ name: new-policy');
    await t.press('y');
    await t.waitFor('policy new-policy saved');
    expect((await runed.request('GET', '/v1/policies/new-policy', { token: root })).body.rules).toEqual([{ resource: 'services', verbs: ['get', 'list'], namespace: 'dev' }]);
  });

  it('Esc with unsaved changes asks; built-ins open as a clone; delete names who holds the policy', async () => {
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'held', rules: [{ resource: 'logs', verbs: ['get'], namespace: '*' }] } });
    await runed.request('POST', '/v1/users', { token: root, body: { name: 'holder', policies: ['held'] } });
    const t = await open('4');
    await t.waitFor('held');
    await t.press('/');
    await t.type('held');
    await t.press(KEYS.enter, KEYS.enter);
    await t.waitFor('Policy held · attached to user holder');
    await t.type('#');
    await t.press(KEYS.esc);
    await t.waitFor('Discard unsaved changes?');
    await t.press('y');
    await t.waitFor((f) => f.includes('4:Policies') && !f.includes('Discard'));
    await t.press('d');
    await t.waitFor('Delete policy held? It is attached to user holder.');
    // The confirmation is a dry run of the delete: it says who would lose which rights.
    const confirm = await t.waitFor('holder: \u2212 get logs in every namespace');
    expect(confirm).toContain('rule removed: [get] on logs in *');
    await t.press('n');
    await t.waitFor((f) => !f.includes('Delete policy held?'));
    expect((await runed.request('GET', '/v1/policies/held', { token: root })).status).toBe(200);
    await t.press(KEYS.esc); // clear the filter
    await t.press('/');
    await t.type('readonly');
    await t.press(KEYS.enter, KEYS.enter);
    const clone = await t.waitFor('Clone of readonly (built-ins are read-only)');
    expect(clone).toContain('name: readonly-copy');
  });

  it('e hands the policy to $EDITOR and comes back to the in-TUI editor: the diff, then ctrl-s saves', async () => {
    await runed.request('POST', '/v1/policies', { token: root, body: { name: 'ext', rules: [{ resource: 'logs', verbs: ['get'], namespace: '*' }] } });
    const script = join(dir, 'fake-editor.sh');
    writeFileSync(script, '#!/bin/sh\nsed -i \'s/"get"/"get", "list"/\' "$1"\n');
    chmodSync(script, 0o755);
    const previous = process.env.EDITOR;
    process.env.EDITOR = script;
    try {
      const t = await open('4');
      await t.waitFor('ext');
      await t.press('/');
      await t.type('ext');
      await t.press(KEYS.enter, 'e');
      await t.waitFor((f) => f.includes('from $EDITOR') && f.includes('"get", "list"'));
      // Nothing is saved behind the operator's back: only ctrl-s, after the diff.
      expect((await runed.request('GET', '/v1/policies/ext', { token: root })).body.rules[0].verbs).toEqual(['get']);
      await t.press('\x13');
      const diff = await t.waitFor('changes to save');
      expect(diff).toMatch(/\+ {5}verbs: \["get", "list"\]/);
      await t.press('y');
      await t.waitFor('policy ext saved');
      expect((await runed.request('GET', '/v1/policies/ext', { token: root })).body.rules[0].verbs).toEqual(['get', 'list']);
    } finally {
      if (previous === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = previous;
    }
  });

  it('an invalid edit from $EDITOR is not thrown away: it comes back with its errors; reopened, a policy keeps its comments', async () => {
    await runed.request('POST', '/v1/policies', { token: root, raw: { contentType: 'application/yaml', data: '# kept comment\nname: ext2\nrules:\n  - resource: logs   # why\n    verbs: [get]\n    namespace: "*"\n' } });
    const script = join(dir, 'bad-editor.sh');
    writeFileSync(script, '#!/bin/sh\nsed -i \'s/verbs:/verb:/\' "$1"\n');
    chmodSync(script, 0o755);
    const previous = process.env.EDITOR;
    process.env.EDITOR = script;
    try {
      const t = await open('4');
      await t.waitFor('ext2');
      await t.write('/ext2', KEYS.enter);
      await t.waitFor((f) => f.includes('ext2') && !f.includes('ext '));
      await t.write('e');
      const back = await t.waitFor((f) => f.includes('from $EDITOR') && f.includes('error(s)'));
      expect(back).toContain('# kept comment');
      expect(back).toMatch(/unknown field "verb"/);
      await t.write(KEYS.esc);
      await t.waitFor('Discard unsaved changes?');
      await t.write('y');
      await t.write(KEYS.enter);
      const reopened = await t.waitFor((f) => f.includes('Policy ext2') && f.includes('# why'));
      expect(reopened).toContain('# kept comment');
    } finally {
      if (previous === undefined) delete process.env.EDITOR;
      else process.env.EDITOR = previous;
    }
  });
});

describe('the service-account wizard', () => {
  it('every step forward and back keeps values; invalid input is explained; the daemon refusal returns to its step', async () => {
    await runed.request('POST', '/v1/users', { token: root, body: { name: 'taken' } });
    const t = await open('5');
    await t.waitFor('5:Service accounts');
    await t.press('n');
    await t.waitFor('step 1 of 6: Name');
    await t.type('Bad Name');
    await t.press(KEYS.enter);
    await t.waitFor('name must consist of lowercase');
    await t.erase(8);
    await t.type('taken');
    await t.press(KEYS.enter);
    await t.waitFor('step 2 of 6: Namespace');
    await t.press(KEYS.down, KEYS.down); // (cluster-wide), default, stg … → default? order is cluster, default, stg, system
    await t.press(KEYS.enter);
    await t.waitFor('step 3 of 6: Permissions');
    await t.press(' '); // untoggle cast
    await t.press(KEYS.enter);
    await t.waitFor('pick at least one permission');
    await t.press(' ', KEYS.enter);
    await t.waitFor('step 4 of 6: TTL');
    await t.press(KEYS.right, KEYS.right); // 90d → never → custom
    await t.waitFor('Custom:');
    await t.type('soon');
    await t.press(KEYS.enter);
    await t.waitFor('"soon" is not a duration');
    // ←/→ inside a typed custom TTL move the cursor: the field stays with its text.
    await t.press(KEYS.left, 'x');
    await t.waitFor('Custom: sooxn');
    await t.press('\x05', '\x15', KEYS.left); // ctrl-e, ctrl-u empty it: ← chooses a preset again (never)
    await t.waitFor((f) => !f.includes('Custom:'));
    await t.press(KEYS.enter);
    await t.waitFor('step 5 of 6: Description');
    await t.type('CI');
    await t.press(KEYS.esc);
    await t.waitFor('step 4 of 6: TTL');
    await t.press(KEYS.esc, KEYS.esc);
    await t.waitFor('step 2 of 6: Namespace');
    await t.press(KEYS.enter, KEYS.enter, KEYS.enter);
    const review = await t.waitFor('step 5 of 6: Description');
    expect(review).toContain('CI'); // kept
    await t.press(KEYS.enter);
    const r = await t.waitFor('step 6 of 6: Review');
    expect(r).toMatch(/taken · namespace stg · cast · TTL never · "CI"/);
    expect(r).toContain('name: taken-cast');
    expect(r).toContain('namespace: "stg"');
    await t.press(KEYS.enter);
    const back = await t.waitFor('step 1 of 6: Name');
    expect(back).toContain('the name "taken" is taken by a user');
    await t.erase(5);
    await t.type('ci');
    for (let i = 0; i < 5; i++) await t.press(KEYS.enter);
    await t.waitFor('step 6 of 6: Review');
    await t.press(KEYS.enter);
    const secretFrame = await t.waitFor('shown once');
    expect(secretFrame).toContain('for service account ci');
    await t.press('w');
    expect(await t.waitFor('Save to:')).toContain('ci.token');
    // What was typed for one save does not come back as the next one's path.
    await t.type('elsewhere.tok');
    await t.waitFor('elsewhere.tok');
    await t.press(KEYS.esc);
    await t.waitFor((f) => !f.includes('Save to:'));
    await t.press('w');
    const again = await t.waitFor('Save to:');
    expect(again).toContain('ci.token');
    expect(again).not.toContain('elsewhere.tok');
    const c = await runed.request('GET', '/v1/serviceaccounts/ci', { token: root });
    expect(c.body).toMatchObject({ namespace: 'stg', permissions: ['cast'], policies: ['ci-cast'], description: 'CI' });
  });
});

describe('registries, audit and can-i', () => {
  it('add a registry with a masked password, list it without the password, remove it', async () => {
    const t = await open('6');
    await t.waitFor('6:Registries');
    await t.press('n');
    await t.waitFor('Add a registry');
    await t.type('ghcr');
    await t.press(KEYS.tab, KEYS.tab);
    await t.type('ghcr.io');
    await t.press(KEYS.tab);
    await t.type('bot');
    await t.press(KEYS.tab);
    await t.type('s3cret-pw');
    const form = await t.waitFor('•••••••••');
    expect(form).not.toContain('s3cret-pw');
    await t.press(KEYS.enter);
    const list = await t.waitFor((f) => f.includes('registry ghcr added') && /ghcr\s+ghcr\.io/.test(f));
    expect(list).toMatch(/ghcr\s+ghcr\.io\s+docker\s+bot/);
    expect(list).not.toContain('s3cret');
    await t.press('d');
    await t.waitFor('Remove registry ghcr');
    await t.press('y');
    await t.waitFor('registry ghcr removed');
  });

  it('audit: newest first, o filters by outcome, Enter shows one event', async () => {
    await runed.request('GET', '/v1/whoami', { token: 'rune_tok_nope' });
    const t = await open('7');
    await t.waitFor('7:Audit');
    await t.press('o');
    const denied = await t.waitFor((f) => f.includes('outcome: denied') && f.includes('malformed') && !f.includes('success'));
    expect(denied).toMatch(/authentic\S*\s+tokens\s+denied\s+malformed/);
    await t.press(KEYS.enter);
    const detail = await t.waitFor('Previous');
    expect(detail).toMatch(/Actor\s+\(unauthenticated\)/);
  });

  it('can-i: the deciding rule or the closest miss; what-if with the editor\'s draft', async () => {
    await runed.request('POST', '/v1/serviceaccounts', { token: root, body: { name: 'asker', namespace: 'stg', permissions: ['cast'] } });
    const t = await open('8');
    await t.waitFor('8:Can-I');
    await t.press(KEYS.enter);
    await t.waitFor('Subject');
    await t.type('asker');
    await t.press(KEYS.tab);
    await t.type('delete');
    await t.press(KEYS.tab);
    await t.type('services');
    await t.press(KEYS.tab);
    await t.type('stg');
    await t.press(KEYS.enter);
    const denied = await t.waitFor('DENIED for service asker');
    expect(denied).toContain('closest: asker-cast rule 1');
    expect(denied).toContain('verb "delete" is not among');

    // Open a draft in the editor (not saved), then ask again with what-if on.
    await t.press('4');
    await t.waitFor('4:Policies');
    await t.press('n');
    await t.waitFor('New policy');
    await t.press('\x1b[F');
    for (let i = 0; i < 'new-policy'.length; i++) await t.press(KEYS.backspace);
    await t.type('whatif');
    await t.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down);
    await t.press('\x1b[F');
    for (let i = 0; i < 'get, list]'.length; i++) await t.press(KEYS.backspace);
    await t.type('delete]');
    await t.press(KEYS.down, '\x1b[F');
    for (let i = 0; i < 3; i++) await t.press(KEYS.backspace);
    await t.type('stg');
    await t.waitFor('namespace: stg');
    await t.press(CTRL_S);
    await t.waitFor('changes to save');
    await t.press('n', KEYS.esc);
    await t.waitFor('Discard unsaved changes?');
    await t.press('y');
    await t.press('8');
    await t.waitFor('what-if: whatif');
    await t.press(KEYS.enter);
    await t.waitFor('What-if');
    await t.press(KEYS.tab, KEYS.tab, KEYS.tab, KEYS.tab, KEYS.right, KEYS.enter);
    const allowed = await t.waitFor('ALLOWED for service asker');
    expect(allowed).toContain('decided by whatif (draft)');
    expect((await runed.request('GET', '/v1/policies/whatif', { token: root })).status).toBe(404); // never saved
  });
});
