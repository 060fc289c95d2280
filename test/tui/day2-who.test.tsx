import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContextStore } from '../../src/config/contexts.js';
import { App } from '../../src/app/App.js';
import { KEYS, localContext, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

let runed: Runed;
let root: string;
let dir: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  dir = mkdtempSync(join(tmpdir(), 'rune-tui-who-'));
  const as = (method: string, path: string, body?: unknown) => runed.request(method, path, { token: root, ...(body !== undefined ? { body } : {}) });
  await as('POST', '/v1/namespaces', { name: 'prod' });
  await as('POST', '/v1/policies', { name: 'svc-prod', rules: [{ resource: 'services', verbs: ['get', 'list'], namespace: 'prod' }, { resource: 'secrets', verbs: ['list'], namespace: 'prod' }] });
  // alice: two tokens carrying svc-prod; ned: one token narrowed to readonly.
  await runed.userWithToken(root, 'alice', ['svc-prod']);
  await as('POST', '/v1/tokens', { name: 'second', subjectName: 'alice' });
  await runed.userWithToken(root, 'ned', ['readwrite'], { policies: ['readonly'] });
});
afterAll(async () => runed.cleanup());

const store = () => localContext(dir, runed.url, root);

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});
const open = async (screen: string, size = { columns: 100, rows: 30 }) => {
  app = renderTui(<App store={store()} env={{}} />, size);
  await app.waitFor('as:root');
  await app.press(screen);
  return app;
};
const CTRL_S = '\x13';
const END = '\x1b[F';

describe('Can-I: Tab asks who can', () => {
  it('Tab turns the question round; the answer lists subjects, their tokens that carry the right and the rule', async () => {
    const t = await open('8');
    await t.waitFor('Tab: who can?');
    await t.press(KEYS.tab);
    await t.waitFor('Who can');
    expect(t.frame()).toContain('8:Can-I'); // Tab switched the question, not the screen
    await t.press(KEYS.enter);
    await t.waitFor('Verb');
    await t.type('delete');
    await t.press(KEYS.tab);
    await t.type('services');
    await t.press(KEYS.tab);
    await t.type('prod');
    await t.press(KEYS.enter);
    const frame = await t.waitFor('may delete services in prod');
    expect(frame).toMatch(/SUBJECT\s+TYPE\s+TOKENS\s+VIA/);
    // ned holds readwrite, but its only token is narrowed to readonly.
    expect(frame).toMatch(/ned\s+user\s+0\/1\s+readwrite rule 1/);
    expect(frame).toMatch(/root\s+user\s+1\s+root rule 1/);
    expect(frame).not.toMatch(/alice\s+user/);

    // The same question for "list": alice appears with both tokens, through svc-prod.
    await t.press(KEYS.enter);
    await t.waitFor('Verb');
    await t.press('\x15'); // ctrl-u clears the verb
    await t.type('list');
    await t.press(KEYS.enter);
    const list = await t.waitFor('may list services in prod');
    expect(list).toMatch(/alice\s+user\s+2\s+svc-prod rule 1 \(\[get, list\] on services in prod\)/);
    // Minting the narrowed token attached readonly to ned: it decides first (policies in name order).
    expect(list).toMatch(/ned\s+user\s+1\s+readonly rule 1/);

    // Tab back: "can X do this?" keeps the verb, resource and namespace asked.
    await t.press(KEYS.tab);
    await t.waitFor('Enter: ask about root: list services in prod');
    await t.press(KEYS.enter);
    await t.waitFor('Subject');
    await t.type('alice');
    await t.press(KEYS.enter);
    await t.waitFor('ALLOWED for user alice');
  });

  it('a subject who may not read the graph is told why, in place', async () => {
    const reader = await runed.userWithToken(root, 'plain', ['readonly']);
    const s = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
    s.set('plain', { server: runed.url, token: reader, namespace: 'default' });
    s.use('plain');
    app = renderTui(<App store={s} env={{}} />, { columns: 100, rows: 30 });
    const t = app;
    await t.waitFor('as:plain');
    await t.press('8');
    await t.waitFor('Tab: who can?');
    await t.press(KEYS.tab, KEYS.enter);
    await t.waitFor('Verb');
    await t.type('get');
    await t.press(KEYS.tab);
    await t.type('services');
    await t.press(KEYS.enter);
    await t.waitFor('missing permission "list" on "users"');
  });
});

describe('policy editor: ctrl-s shows the impact, then asks', () => {
  it('an edit: who gains and who loses, and nothing saved until y', async () => {
    const t = await open('4');
    await t.waitFor('svc-prod');
    await t.press('/');
    await t.type('svc-prod');
    await t.press(KEYS.enter, KEYS.enter);
    await t.waitFor('Policy svc-prod · attached to user alice');
    // The text is the daemon's YAML of the rules; change the first rule's verbs.
    const editor = t.frame();
    const lines = editor.split('\n');
    const verbsRow = lines.findIndex((l) => /verbs:/.test(l));
    const firstRow = lines.findIndex((l) => /^\s*1\s/.test(l));
    for (let i = 0; i < verbsRow - firstRow; i++) await t.press(KEYS.down);
    await t.press(END);
    await t.press(KEYS.left);
    await t.type(', "delete"');
    await t.waitFor('"delete"');
    await t.press(CTRL_S);
    const confirm = await t.waitFor('changes to save');
    expect(confirm).toContain('Impact:');
    expect(confirm).toMatch(/alice \(2 tokens\): \+ delete services in prod/);
    expect(confirm).toContain('Save these changes? y save');
    expect((await runed.request('GET', '/v1/policies/svc-prod', { token: root })).body.rules[0].verbs).toEqual(['get', 'list']);
    await t.press('n');
    await t.waitFor((f) => f.includes('[modified]') && !f.includes('Impact:'));
    expect((await runed.request('GET', '/v1/policies/svc-prod', { token: root })).body.rules[0].verbs).toEqual(['get', 'list']);
    await t.press(CTRL_S);
    await t.waitFor('changes to save');
    await t.press('y');
    await t.waitFor('policy svc-prod saved');
    expect((await runed.request('GET', '/v1/policies/svc-prod', { token: root })).body.rules[0].verbs).toEqual(['get', 'list', 'delete']);
  });

  it('a new policy: nobody holds it yet', async () => {
    const t = await open('4');
    await t.waitFor('4:Policies');
    await t.press('n');
    await t.waitFor('New policy');
    await t.press(END);
    for (let i = 0; i < 'new-policy'.length; i++) await t.press(KEYS.backspace);
    await t.type('fresh-one');
    await t.waitFor('name: fresh-one');
    await t.press(CTRL_S);
    const confirm = await t.waitFor('changes to save');
    expect(confirm).toContain('fresh-one is new: nobody holds it yet');
    await t.press('y');
    await t.waitFor('policy fresh-one saved');
  });
});
