import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/App.js';
import { ContextStore } from '../../src/config/contexts.js';
import { loadServerKey } from '../../src/daemon/crypto.js';
import { issueToken } from '../../src/daemon/issue.js';
import { Store } from '../../src/daemon/store/index.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

/** Tokens screen: X revokes every live token of the current filter after a preview and the typed count; v cycles the stale views. */
let runed: Runed;
let root: string;
let dir: string;
const DAY = 86_400_000;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  await runed.request('POST', '/v1/users', { token: root, body: { name: 'alice', policies: ['readonly'] } });
  await runed.stop();
  // Tokens 40 days old, never used: no API can backdate a token, so they are written before the daemon starts.
  const store = await Store.open(runed.dataDir);
  const key = loadServerKey(runed.dataDir);
  const alice = (await store.subjects.getByName('alice'))!;
  await store.transaction(async (tx) => {
    const make = (name: string, now: number) => issueToken(tx, key, { subject: alice, name, policies: [], ttlMs: null, description: '', kind: 'derived', now });
    for (const n of ['ci-a1', 'ci-a2', 'ci-a3', 'keep-1', 'keep-2']) await make(n, Date.now());
    await make('old-1', Date.now() - 40 * DAY);
    await make('old-2', Date.now() - 40 * DAY);
  });
  await store.close();
  runed = await Runed.start([], { dataDir: runed.dataDir });
  dir = mkdtempSync(join(tmpdir(), 'rune-tui-bulk-'));
  writeFileSync(join(dir, 'root.token'), root + '\n', { mode: 0o600 });
}, 60_000);
afterAll(async () => runed.cleanup());

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});
function open() {
  const store = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
  store.set('local', { server: runed.url, 'token-file': join(dir, 'root.token'), namespace: 'default' });
  store.use('local');
  return (app = renderTui(<App store={store} env={{}} />, { columns: 80, rows: 24 }));
}
const statusOf = async (name: string) => {
  const res = await runed.request('GET', `/v1/tokens?search=${name}&limit=10`, { token: root });
  return res.body.items.find((t: { name: string }) => t.name === name)?.status as string;
};

describe('Tokens: X and the stale view', () => {
  it('X without a filter says what it needs, and revokes nothing', async () => {
    const t = open();
    await t.write('3');
    await t.waitFor(/Tokens \(\d+\)/);
    await t.write('X');
    await t.waitFor('X revokes the tokens of a filter');
    expect(await statusOf('keep-1')).toBe('active');
  });

  it('X previews the filter\'s live tokens with the count; a wrong count and Esc revoke nothing; the typed count revokes them (keys in chunks)', async () => {
    const t = open();
    await t.write('3');
    await t.waitFor(/Tokens \(\d+\)/);
    // Filter, keep it and ask for the preview in one read, as a fast typist over SSH sends them.
    await t.write('/ci-\rX');
    let frame = await t.waitFor('Revoke 3 live token(s) matching search=ci-');
    for (const n of ['ci-a1', 'ci-a2', 'ci-a3']) expect(frame).toContain(n);
    expect(frame).not.toContain('keep-1');
    expect(frame).toContain('Type 3 and press Enter');
    await t.write('2\r');
    await t.waitFor('"2" does not match 3');
    expect(await statusOf('ci-a1')).toBe('active');
    await t.write(KEYS.esc);
    await t.waitFor((f) => !f.includes('Revoke 3 live'));
    expect(await statusOf('ci-a2')).toBe('active');

    await t.write('X');
    await t.waitFor('Revoke 3 live token(s)');
    await t.write('3', '\r');
    frame = await t.waitFor('revoked 3 token(s) matching search=ci-');
    for (const n of ['ci-a1', 'ci-a2', 'ci-a3']) expect(await statusOf(n)).toBe('revoked');
    expect(await statusOf('keep-1')).toBe('active');
    // Only revoked ones are left in the filter: nothing live to revoke.
    await t.write('X');
    await t.waitFor('no live token matches search=ci-');
  });

  it('v shows the stale tokens (unused for 30d, then 90d, then all); X there revokes the stale ones only', async () => {
    const t = open();
    await t.write('3');
    await t.waitFor(/Tokens \(\d+\)/);
    await t.write('v');
    let frame = await t.waitFor('Tokens unused for 30d (stale) (2)');
    expect(frame).toContain('old-1');
    expect(frame).toContain('old-2');
    expect(frame).not.toContain('keep-1');
    await t.write('v');
    frame = await t.waitFor('Tokens unused for 90d (stale) (0)');
    expect(frame).toContain('no tokens');
    await t.write('v');
    await t.waitFor((f) => /Tokens \(\d+\)/.test(f) && f.includes('keep-1'));
    await t.write('v');
    await t.waitFor('Tokens unused for 30d (stale) (2)');
    await t.write('X');
    frame = await t.waitFor('Revoke 2 live token(s) matching unused-for=30d');
    expect(frame).toContain('never used');
    await t.write('2\r');
    await t.waitFor('revoked 2 token(s) matching unused-for=30d');
    expect(await statusOf('old-1')).toBe('revoked');
    expect(await statusOf('keep-2')).toBe('active');
  });
});
