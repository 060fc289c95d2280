import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RuneClient } from '../../src/api/client.js';
import { ContextStore } from '../../src/config/contexts.js';
import { osc52 } from '../../src/tui/osc52.js';
import { App } from '../../src/app/App.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

let runed: Runed;
let root: string;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  dir = mkdtempSync(join(tmpdir(), 'rune-tui-'));
  tokenFile = join(dir, 'root.token');
  writeFileSync(tokenFile, root + '\n', { mode: 0o600 });
  for (const name of ['alice', 'bob']) await runed.request('POST', '/v1/users', { token: root, body: { name, email: `${name}@example.com` } });
});
afterAll(async () => runed.cleanup());

/** A fresh config with the given contexts (all pointing at the test daemon unless told). */
function storeWith(contexts: Record<string, { server?: string; production?: boolean; 'read-only'?: boolean }>, current: string): ContextStore {
  const store = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
  for (const [name, c] of Object.entries(contexts)) {
    store.set(name, { server: c.server ?? runed.url, 'token-file': tokenFile, namespace: 'default', ...(c.production ? { production: true } : {}), ...(c['read-only'] ? { 'read-only': true } : {}) });
  }
  store.use(current);
  return store;
}

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});
const open = (store: ContextStore, size = { columns: 80, rows: 24 }, extra: { readOnly?: boolean; env?: NodeJS.ProcessEnv } = {}) =>
  (app = renderTui(<App store={store} env={extra.env ?? {}} readOnly={extra.readOnly ?? false} />, size));

describe('the shell', () => {
  it.each([
    [80, 24],
    [120, 40],
  ])('at %ix%i: the header names context, server, subject and namespace; the frame is one row short of the terminal (a full-height frame makes Ink clear the scrollback)', async (columns, rows) => {
    const t = open(storeWith({ local: {} }, 'local'), { columns, rows });
    const frame = await t.waitFor('as:root');
    const lines = frame.split('\n');
    expect(lines[0]).toMatch(/^rune ctx:local  as:root  ns:default  srv:127\.0\.0\.1:\d+\s+[●○] 3:Tokens$/);
    expect(lines).toHaveLength(rows - 1);
    expect(lines.every((l) => l.length <= columns)).toBe(true);
    expect(lines.at(-1)).toMatch(/^\? help/);
    if (columns >= 120) expect(frame).toMatch(/ID\s+NAME/);
    else expect(frame).not.toMatch(/ID\s+NAME/);
  });

  it('a production context is labelled, and read-only shows a badge and hides mutating keys', async () => {
    const t = open(storeWith({ prod: { production: true, 'read-only': true } }, 'prod'));
    const frame = await t.waitFor('READ-ONLY');
    expect(frame.split('\n')[0]).toContain('PRODUCTION');
    expect(frame).not.toContain('create a token');
    await t.press('n');
    // The refusal proves the key was handled; only then does the missing form mean something.
    const refused = await t.waitFor('read-only context: ');
    expect(refused).not.toContain('Create a token');
  });

  it('Tab, number keys and :commands move between screens; ? shows help from the keymap; Esc closes it', async () => {
    const t = open(storeWith({ local: {}, other: {} }, 'local'));
    await t.waitFor('3:Tokens');
    await t.press(KEYS.tab);
    await t.waitFor('4:Policies');
    await t.press(KEYS.shiftTab, KEYS.shiftTab, KEYS.shiftTab);
    await t.waitFor('1:Contexts');
    await t.press('2');
    await t.waitFor((f) => f.includes('2:Users') && f.includes('alice@example.com'));
    await t.press('?');
    await t.waitFor('Keys (Esc closes)');
    expect(t.frame()).toContain('attach / detach policies');
    await t.press(KEYS.esc);
    await t.waitFor((f) => !f.includes('Keys (Esc closes)'));
    await t.press(':');
    await t.type('ctx ot');
    await t.press(KEYS.tab);
    await t.waitFor(':ctx other');
    await t.press(KEYS.enter);
    await t.waitFor('ctx:other');
    await t.press(':');
    await t.type('tok');
    await t.press(KEYS.enter);
    await t.waitFor('3:Tokens');
  });

  it('rune ui --context NAME starts in that context without changing the current one', async () => {
    const store = storeWith({ local: {}, other: {} }, 'local');
    app = renderTui(<App store={store} env={{}} initialContext="other" />, { columns: 80, rows: 24 });
    await app.waitFor('ctx:other');
    expect(store.current()).toBe('local');
  });

  it('errors from the daemon show in place, and the TUI keeps working', async () => {
    const t = open(storeWith({ down: { server: '127.0.0.1:9' } }, 'down'));
    const frame = await t.waitFor('cannot reach runed');
    expect(frame).toContain('start it on that host');
    await t.press('1');
    await t.waitFor((f) => f.includes('1:Contexts') && f.includes('unreachable'));
  });

  it('NO_COLOR: no colour escape codes in the frame', async () => {
    const t = open(storeWith({ local: {} }, 'local'), { columns: 80, rows: 24 }, { env: { NO_COLOR: '1' } });
    await t.waitFor('as:root');
    expect(t.rawFrame()).not.toMatch(/\x1b\[(3[0-7]|9[0-7]|4[0-7])m/);
  });
});

describe('tokens and the one-shot secret display', () => {
  it('create → masked → revealed on r → leaving asks → gone from every later frame, and the token works', async () => {
    const t = open(storeWith({ local: {} }, 'local'));
    await t.waitFor('as:root');
    await t.press('n');
    await t.waitFor('Create a token');
    await t.type('tui-made');
    await t.press(KEYS.tab, KEYS.tab, KEYS.tab, KEYS.right); // TTL: 30d
    await t.press(KEYS.enter);
    const masked = await t.waitFor('shown once');
    expect(masked).toMatch(/rune_tok_\w+_•{24}/);
    await t.press('r');
    const full = /rune_tok_[0-9A-Za-z]{20}_[0-9A-Za-z]{49}/;
    const revealed = await t.waitFor((f) => full.test(f.replace(/[│\s]+/g, '')));
    const secret = full.exec(revealed.replace(/[│\s]+/g, ''))![0];
    await t.press('r');
    await t.waitFor('•'.repeat(24));
    await t.press(KEYS.enter);
    await t.waitFor('Leave without copying or saving?');
    await t.press('n');
    await t.waitFor((f) => !f.includes('Leave without'));
    await t.press(KEYS.enter, 'y');
    await t.waitFor('tui-made');
    const framesAfter = t.allFrames().slice(-3);
    for (const f of framesAfter) expect(f.replace(/\s+/g, '')).not.toContain(secret.slice(30));
    const me = await new RuneClient({ server: runed.url, token: secret }).whoami();
    expect(me.token.name).toBe('tui-made');
    const created = (await runed.request('GET', `/v1/tokens/${me.token.id}`, { token: root })).body;
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(30 * 86_400_000);
  });

  it('c copies through OSC 52 and says so; w writes a 0600 file and refuses to overwrite', async () => {
    const t = open(storeWith({ local: {} }, 'local'));
    await t.waitFor('as:root');
    await t.press('n');
    await t.waitFor('Create a token');
    await t.type('copied');
    await t.press(KEYS.enter);
    await t.waitFor('shown once');
    await t.press('c');
    await t.waitFor('Sent to the terminal clipboard');
    const seq = t.sideWrites().find((w) => w.startsWith('\x1b]52;c;'))!;
    const secret = Buffer.from(seq.slice(7, -1), 'base64').toString();
    expect(secret).toMatch(/^rune_tok_/);
    const file = join(dir, 'copied.token');
    await t.press('w');
    await t.waitFor('Save to:');
    await t.type(file);
    await t.press(KEYS.enter);
    await t.waitFor('mode 0600');
    expect(readFileSync(file, 'utf8')).toBe(secret + '\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await t.press('w');
    await t.waitFor('Save to:');
    await t.type(file);
    await t.press(KEYS.enter);
    await t.waitFor('already exists');
    await t.press(KEYS.esc, KEYS.enter);
    await t.waitFor((f) => f.includes('secret dismissed'));
  });

  it('OSC 52 is plain, inside tmux too (tmux set-clipboard understands it; a DCS passthrough is dropped)', () => {
    expect(osc52('hi')).toBe('\x1b]52;c;aGk=\x07');
  });

  it('e toggles enabled; x revokes after a confirmation with Cancel focused', async () => {
    const made = await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'zz-victim' } });
    const t = open(storeWith({ local: {} }, 'local'));
    await t.waitFor('zz-victim');
    await t.press('/');
    await t.type('zz-victim');
    await t.press(KEYS.enter);
    await t.press('e');
    await t.waitFor('token zz-victim disabled');
    await t.press('x');
    await t.waitFor('Revoke token zz-victim');
    await t.press(KEYS.enter); // Cancel is focused
    await t.waitFor((f) => !f.includes('Revoke token'));
    expect((await runed.request('GET', `/v1/tokens/${made.body.token.id}`, { token: root })).body.status).toBe('disabled');
    await t.press('x');
    await t.waitFor('Revoke token zz-victim');
    await t.press('y');
    await t.waitFor('token zz-victim revoked');
    expect((await runed.request('GET', `/v1/tokens/${made.body.token.id}`, { token: root })).body.status).toBe('revoked');
  });

  it('a bad custom TTL is explained on the form', async () => {
    const t = open(storeWith({ local: {} }, 'local'));
    await t.waitFor('as:root');
    await t.press('n');
    await t.waitFor('Create a token');
    await t.press(KEYS.tab, KEYS.tab, KEYS.tab, KEYS.left); // TTL: custom
    await t.waitFor('Custom TTL');
    await t.press(KEYS.tab);
    await t.type('soon');
    await t.press(KEYS.enter);
    await t.waitFor('custom TTL "soon" is not a duration');
  });
});

describe('users and contexts', () => {
  it('create a user, attach policies from a multi-select, then delete with confirmation', async () => {
    const t = open(storeWith({ local: {} }, 'local'));
    await t.press('2');
    await t.waitFor('alice@example.com');
    await t.press('n');
    await t.waitFor('Create or update a user');
    await t.type('carol');
    await t.press(KEYS.tab);
    await t.type('carol@example.com');
    await t.press(KEYS.enter);
    await t.waitFor('user carol saved');
    await t.press('/');
    await t.type('carol');
    await t.press(KEYS.enter, 'p');
    await t.waitFor('Policies of carol');
    // Options are sorted by name: admin, cast, readonly, readwrite, root.
    await t.press(KEYS.down, KEYS.down, ' ');
    await t.waitFor('[x] readonly');
    await t.press(KEYS.enter);
    await t.waitFor('policies of carol: readonly');
    expect((await runed.request('GET', '/v1/users/carol', { token: root })).body.policies).toEqual(['readonly']);
    await t.press('d');
    await t.waitFor('Delete user carol?');
    await t.press('n');
    await t.waitFor((f) => !f.includes('Delete user carol?'));
    await t.press('d', 'y');
    await t.waitFor('user carol deleted');
    expect((await runed.request('GET', '/v1/users/carol', { token: root })).status).toBe(404);
  });

  it('on a production context deleting a user requires typing its name', async () => {
    await runed.request('POST', '/v1/users', { token: root, body: { name: 'doomed' } });
    const t = open(storeWith({ prod: { production: true } }, 'prod'));
    await t.press('2');
    await t.waitFor('doomed');
    await t.press('/');
    await t.type('doomed');
    await t.press(KEYS.enter, 'd');
    await t.waitFor('Type doomed and press Enter');
    await t.press('y', KEYS.enter);
    await t.waitFor('"y" does not match doomed');
    expect((await runed.request('GET', '/v1/users/doomed', { token: root })).status).toBe(200);
    await t.press(KEYS.backspace);
    await t.type('doomed');
    await t.press(KEYS.enter);
    await t.waitFor('user doomed deleted');
  });

  it('contexts: reachability and identity of each; Enter switches and persists; a adds one with the token masked', async () => {
    const store = storeWith({ local: {}, other: {} }, 'local');
    const t = open(store);
    await t.press('1');
    const frame = await t.waitFor((f) => (f.match(/ ok /g) ?? []).length >= 2);
    expect(frame).toMatch(/\*\s+local\s+http:\/\/127\.0\.0\.1:\d+\s+default\s+ok\s+user root/);
    await t.press(KEYS.down, KEYS.enter);
    await t.waitFor('ctx:other');
    expect(store.current()).toBe('other');
    await t.press('a');
    await t.waitFor('Add a context');
    await t.type('third');
    await t.press(KEYS.tab);
    await t.type(runed.url);
    await t.press(KEYS.tab);
    await t.type(root);
    const form = await t.waitFor('•••');
    expect(form.replace(/\s+/g, '')).not.toContain(root.slice(20, 40));
    await t.press(KEYS.enter);
    await t.waitFor('ctx:third');
    expect(store.get('third')).toMatchObject({ server: runed.url, token: root });
  });

  it('adding a context with a bad token says so and saves nothing', async () => {
    const store = storeWith({ local: {} }, 'local');
    const t = open(store);
    await t.press('1');
    await t.waitFor('1:Contexts');
    await t.press('a');
    await t.waitFor('Add a context');
    await t.type('bad');
    await t.press(KEYS.tab);
    await t.type(runed.url);
    await t.press(KEYS.tab);
    await t.type('rune_tok_nope');
    await t.press(KEYS.enter);
    await t.waitFor('invalid or expired token');
    expect(store.get('bad')).toBeUndefined();
  });

  it('q quits with an empty last frame', async () => {
    const t = open(storeWith({ local: {} }, 'local'));
    await t.waitFor('as:root');
    const exited = t.waitUntilExit();
    await t.press('q');
    await exited;
    expect(t.frame().trim()).toBe('');
  });
});
