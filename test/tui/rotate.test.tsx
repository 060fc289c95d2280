import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/App.js';
import { ContextStore } from '../../src/config/contexts.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

/** Issue 16 in the TUI: R rotates the selected token; tokens and the context's own token that expire soon are marked. */
let runed: Runed;
let root: string;
let dir: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  dir = mkdtempSync(join(tmpdir(), 'rune-rotate-'));
});
afterAll(async () => runed.cleanup());

function storeWith(token: string): ContextStore {
  const cfg = mkdtempSync(join(dir, 'cfg-'));
  const file = join(cfg, 'local.token');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  const store = new ContextStore(join(cfg, 'config.yaml'));
  store.set('local', { server: runed.url, 'token-file': file, namespace: 'default' });
  store.use('local');
  return store;
}

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});

const mint = async (body: Record<string, unknown>) => {
  const res = await runed.request('POST', '/v1/tokens', { token: root, body });
  expect(res.status).toBe(201);
  return res.body as { token: { id: string }; secret: string };
};
const status = async (secret: string) => (await runed.request('GET', '/v1/whoami', { token: secret })).status;

describe('R on Tokens', () => {
  it('asks first, takes the grace period (chunked keys), shows the new secret once; grace 0 cuts the old one off', async () => {
    const victim = await mint({ name: 'rot-zero' });
    const t = (app = renderTui(<App store={storeWith(root)} env={{}} />, { columns: 80, rows: 24 }));
    await t.waitFor('rot-zero');
    await t.write('/rot-zero', KEYS.enter);
    await t.waitFor((f) => f.includes('1 match'));
    await t.write('R');
    await t.waitFor('Rotate token rot-zero');
    await t.write(KEYS.enter); // Cancel is focused: nothing happens
    await t.waitFor((f) => !f.includes('Rotate token'));
    expect(await status(victim.secret)).toBe(200);
    await t.write('R');
    await t.waitFor('Rotate token rot-zero');
    await t.write('y');
    const form = await t.waitFor('grace period of the old secret');
    expect(form).toContain('1h');
    // Erase the default and type 0 in one read, Enter in the next: as SSH delivers fast typing.
    await t.write(KEYS.backspace.repeat(2) + '0', KEYS.enter);
    await t.waitFor('New secret of token rot-zero');
    const flat = (f: string) => f.replace(/[│\s]+/g, ' ');
    const shown = await t.waitFor((f) => flat(f).includes('the old secret no longer works'));
    expect(shown).not.toMatch(/rune_tok_\w+_\w{20}/); // masked until revealed
    await t.write('r');
    const revealed = await t.waitFor(/rune_tok_\w+_\w{40,}/);
    const secret = /rune_tok_\w{20}_\w{49}/.exec(revealed.replace(/\s+/g, ''))![0];
    expect(await status(secret)).toBe(200);
    expect(await status(victim.secret)).toBe(401);
    await t.write(KEYS.enter);
    await t.waitFor('Leave without copying');
    await t.write('y');
    await t.waitFor('secret dismissed');
  });

  it('with the default grace the old secret keeps working', async () => {
    const victim = await mint({ name: 'rot-default' });
    const t = (app = renderTui(<App store={storeWith(root)} env={{}} />, { columns: 120, rows: 40 }));
    await t.waitFor('rot-default');
    await t.write('/rot-default', KEYS.enter);
    await t.waitFor((f) => f.includes('1 match'));
    await t.write('R');
    await t.waitFor('Rotate token rot-default');
    await t.write('y');
    await t.waitFor('grace period of the old secret');
    await t.write(KEYS.enter);
    await t.waitFor((f) => /the old secret works until \d{4}-\d\d-\d\dT/.test(f.replace(/[│\s]+/g, ' ')));
    expect(await status(victim.secret)).toBe(200);
  });

  it('rotating the context\'s own token says the context must log in again', async () => {
    const own = await mint({ name: 'rot-own' });
    const t = (app = renderTui(<App store={storeWith(own.secret)} env={{}} />, { columns: 120, rows: 40 }));
    await t.waitFor('rot-own');
    await t.write('/rot-own', KEYS.enter);
    await t.waitFor((f) => f.includes('1 match'));
    await t.write('R');
    await t.waitFor('Rotate token rot-own');
    await t.write('y');
    await t.waitFor('grace period of the old secret');
    await t.write(KEYS.enter);
    await t.waitFor((f) => f.replace(/[│\s]+/g, ' ').includes('It is the token of this context: log in again'));
    expect(await status(own.secret)).toBe(200);
  });

  it('is refused on a read-only context', async () => {
    await mint({ name: 'rot-ro' });
    const t = (app = renderTui(<App store={storeWith(root)} env={{}} readOnly />, { columns: 80, rows: 24 }));
    await t.waitFor('rot-ro');
    await t.write('/rot-ro', KEYS.enter);
    await t.waitFor((f) => f.includes('1 match'));
    await t.write('R');
    await t.waitFor('read-only');
    expect(t.frame()).not.toContain('Rotate token');
  });
});

describe('expiring soon', () => {
  it('the header says when the context\'s own token expires soon, and the token row is marked', async () => {
    const own = await mint({ name: 'own-soon', ttl: '3d' });
    const t = (app = renderTui(<App store={storeWith(own.secret)} env={{}} />, { columns: 80, rows: 24 }));
    const frame = await t.waitFor('TOKEN EXPIRES IN');
    expect(frame.split('\n')[0]).toMatch(/^rune +TOKEN EXPIRES IN (2d|3d|71h|72h) +ctx:local/);
    await t.write('/own-soon', KEYS.enter);
    await t.waitFor((f) => /own-soon.*!in/.test(f));
  });

  it('no notice for a token that does not expire soon', async () => {
    const t = (app = renderTui(<App store={storeWith(root)} env={{}} />, { columns: 80, rows: 24 }));
    const frame = await t.waitFor('as:root');
    expect(frame).not.toContain('TOKEN EXPIRES');
  });
});
