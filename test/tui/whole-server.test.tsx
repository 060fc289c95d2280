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
import { displayWidth } from '../../src/format/width.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

/**
 * Issue 13 at 80×24 and 120×40: lists answered by the daemon over 1,004 tokens, each screen's
 * place kept for the session, Esc back along the way you came, fading notices, per-mode hints,
 * and the daemon's health in the header.
 */
let runed: Runed;
let root: string;
let dir: string;
let tokenFile: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
  await runed.request('POST', '/v1/users', { token: root, body: { name: 'alice' } });
  await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'alice-laptop', subjectName: 'alice' } });
  await runed.stop();
  const store = await Store.open(runed.dataDir);
  const key = loadServerKey(runed.dataDir);
  const owner = (await store.subjects.getByName('root'))!;
  const now = Date.now() - 10_000;
  await store.transaction(async (tx) => {
    for (let i = 0; i < 1000; i++) await issueToken(tx, key, { subject: owner, name: `filler-${String(i).padStart(4, '0')}`, policies: [], ttlMs: null, description: '', kind: 'derived', now: now + i });
    await issueToken(tx, key, { subject: owner, name: 'ci-needle', policies: [], ttlMs: null, description: '', kind: 'derived', now: now + 1000 });
    // Matches by its description only, which no column shows: only the daemon can find it.
    await issueToken(tx, key, { subject: owner, name: 'deploy-bot', policies: [], ttlMs: null, description: 'the NEEDLE one', kind: 'derived', now: now + 1001 });
    await issueToken(tx, key, { subject: owner, name: 'aaa-first', policies: [], ttlMs: null, description: '', kind: 'derived', now: now + 1002 });
    await issueToken(tx, key, { subject: owner, name: '東京-deploy', policies: [], ttlMs: null, description: '🚀 rollout', kind: 'derived', now: now + 1003 });
  });
  await store.close();
  runed = await Runed.start([], { dataDir: runed.dataDir });
  dir = mkdtempSync(join(tmpdir(), 'rune-tui13-'));
  tokenFile = join(dir, 'root.token');
  writeFileSync(tokenFile, root + '\n', { mode: 0o600 });
}, 60_000);
afterAll(async () => runed.cleanup());

function storeFor(server: string): ContextStore {
  const store = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
  store.set('local', { server, 'token-file': tokenFile, namespace: 'default' });
  store.use('local');
  return store;
}

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});
const open = (size: { columns: number; rows: number }, env: NodeJS.ProcessEnv = {}, server = runed.url) => (app = renderTui(<App store={storeFor(server)} env={env} />, size));
/** The row of the frame that holds `text`. */
const lineWith = (frame: string, text: string) => frame.split('\n').find((l) => l.includes(text)) ?? '';

describe.each([
  [80, 24],
  [120, 40],
])('at %ix%i', (columns, rows) => {
  const size = { columns, rows };

  it('/ asks the daemon: 2 of 1,006 tokens match, one only by its description; the count is the server\'s', async () => {
    const t = open(size);
    await t.waitFor(/Tokens \(300 of 1,006\)/);
    await t.write('/needle');
    const frame = await t.waitFor('2 matches');
    expect(frame).toContain('ci-needle');
    expect(frame).toContain('deploy-bot');
    expect(frame).not.toContain('filler-');
  });

  it('s sorts on the daemon: the newest token, not loaded yet, comes first by name', async () => {
    const t = open(size);
    await t.waitFor(/Tokens \(300 of 1,006\)/);
    expect(t.frame()).not.toContain('aaa-first');
    await t.write('s');
    const frame = await t.waitFor('aaa-first');
    const names = frame.split('\n').filter((l) => /aaa-first|alice-laptop|ci-needle/.test(l));
    expect(names[0]).toContain('aaa-first');
  });

  it('CJK and emoji take two cells: the columns after them stay aligned', async () => {
    const t = open(size);
    await t.waitFor('300 of');
    await t.write('/deploy');
    const frame = await t.waitFor((f) => f.includes('東京-deploy') && f.includes('deploy-bot') && f.includes('2 matches'));
    const column = (line: string) => displayWidth(line.slice(0, line.indexOf(' root ') + 1));
    expect(column(lineWith(frame, '東京-deploy'))).toBe(column(lineWith(frame, 'deploy-bot')));
    for (const l of frame.split('\n')) expect(displayWidth(l)).toBeLessThanOrEqual(columns);
  });

  it('each screen keeps filter, sort and selection for the session; ctrl-r refreshes without losing them', async () => {
    const t = open(size);
    await t.waitFor('300 of');
    await t.write('/needle', KEYS.enter);
    await t.waitFor('2 matches');
    await t.write('s');
    await t.waitFor('NAME↑');
    await t.write('j');
    // The selection shows through what an action would act on (x asks to revoke the selected token).
    const selectedIs = async (name: string) => {
      await t.write('x');
      await t.waitFor(`Revoke token ${name}`);
      await t.write('n');
      await t.waitFor((f) => !f.includes('Revoke token'));
    };
    await selectedIs('deploy-bot');
    await t.write('2');
    await t.waitFor('2:Users');
    await t.write('3');
    await t.waitFor((f) => f.includes('3:Tokens') && f.includes('/needle') && f.includes('2 matches') && f.includes('NAME↑'));
    await selectedIs('deploy-bot');
    await t.write(KEYS.ctrlR);
    await t.waitFor((f) => f.includes('/needle') && f.includes('2 matches') && !f.includes('loading'));
    await selectedIs('deploy-bot');
  });

  it('Esc goes back where you came from: Users → a user\'s tokens → Esc → Users', async () => {
    const t = open(size);
    await t.waitFor('300 of');
    await t.write('2');
    await t.waitFor('2:Users');
    await t.write('/alice', KEYS.enter);
    await t.waitFor((f) => f.includes('alice') && !f.includes('loading'));
    await t.write(KEYS.enter);
    await t.waitFor('Tokens of alice');
    await t.waitFor('alice-laptop');
    await t.write(KEYS.esc);
    const back = await t.waitFor('2:Users');
    // And Users is as it was left: still filtered to alice.
    expect(back).toContain('/alice');
  });

  it('a notice fades by itself, or with the next key; the prompt shows its own hints, not the list\'s', async () => {
    const t = open(size, { RUNE_NOTICE_MS: '300' });
    await t.waitFor('300 of');
    await t.write(':bogus', KEYS.enter);
    await t.waitFor('unknown command "bogus"');
    await t.waitFor((f) => !f.includes('unknown command'));
    const quiet = open(size);
    await quiet.waitFor('300 of');
    await quiet.write(':bogus', KEYS.enter);
    await quiet.waitFor('unknown command "bogus"');
    await quiet.write('j');
    await quiet.waitFor((f) => !f.includes('unknown command'));
    await quiet.write(':');
    const prompt = await quiet.waitFor((f) => f.includes('complete') && f.includes('run'));
    expect(prompt.split('\n').at(-1)).not.toContain('filter rows');
  });
});

describe('the daemon\'s health', () => {
  it.each([
    [80, 24],
    [120, 40],
  ])('at %ix%i: runed killed → OFFLINE and "lost"; restarted → "back", the error line gone without ctrl-r', async (columns, rows) => {
    const own = await Runed.start();
    const ownRoot = await own.bootstrap();
    const file = join(dir, `own-${columns}.token`);
    writeFileSync(file, ownRoot + '\n', { mode: 0o600 });
    const store = new ContextStore(join(mkdtempSync(join(dir, 'cfg-')), 'config.yaml'));
    store.set('local', { server: own.url, 'token-file': file, namespace: 'default' });
    store.use('local');
    const t = (app = renderTui(<App store={store} env={{ RUNE_HEALTH_MS: '200', RUNE_NOTICE_MS: '60000' }} />, { columns, rows }));
    await t.waitFor((f) => f.includes('as:root') && f.includes('●'));
    await own.stop('SIGKILL');
    const lost = await t.waitFor((f) => f.includes('OFFLINE') && /connection to .* lost/.test(f));
    expect(lost.split('\n')[0]).toContain('OFFLINE');
    // A call that fails shows the error; the header still says why.
    await t.write('2');
    await t.waitFor('cannot reach runed');
    const port = new URL(own.url).port;
    const again = await Runed.start(['--listen', `127.0.0.1:${port}`], { dataDir: own.dataDir });
    try {
      const back = await t.waitFor((f) => /connection to .* is back/.test(f) && !f.includes('OFFLINE') && !f.includes('cannot reach'), 10_000);
      expect(back).toContain('root');
    } finally {
      await again.cleanup();
    }
  }, 30_000);
});
