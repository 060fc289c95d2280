import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/App.js';
import { ContextStore } from '../../src/config/contexts.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

/** Issue 13's flows, at 80×24 and 120×40, against a daemon whose tokens live at most 30 days. */
let runed: Runed;
let root: string;
let dir: string;

beforeAll(async () => {
  runed = await Runed.start(['--set', 'auth.tokenMaxTtl=30d']);
  root = await runed.bootstrap();
  dir = mkdtempSync(join(tmpdir(), 'rune-flows-'));
  await runed.request('POST', '/v1/users', { token: root, body: { name: 'victim' } });
});
afterAll(async () => runed.cleanup());

/** Contexts "local" (current) and "spare", each with its own token file; `production` marks local. */
function storeWith(opts: { production?: boolean } = {}) {
  const cfg = mkdtempSync(join(dir, 'cfg-'));
  const store = new ContextStore(join(cfg, 'config.yaml'));
  const files = { local: join(cfg, 'local.token'), spare: join(cfg, 'spare.token') };
  for (const [name, file] of Object.entries(files)) {
    writeFileSync(file, root + '\n', { mode: 0o600 });
    store.set(name, { server: runed.url, 'token-file': file, namespace: 'default', ...(name === 'local' && opts.production ? { production: true } : {}) });
  }
  store.use('local');
  return { store, files };
}

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});

describe.each([
  [80, 24],
  [120, 40],
])('at %ix%i', (columns, rows) => {
  const size = { columns, rows };
  const open = async (store: ContextStore, screen: string) => {
    app = renderTui(<App store={store} env={{}} />, size);
    await app.waitFor('as:root');
    await app.write(screen);
    return app;
  };

  it('production type-to-confirm says "does not match" for a wrong name, and goes on with the right one', async () => {
    const t = await open(storeWith({ production: true }).store, '2');
    await t.write('/victim', KEYS.enter);
    await t.waitFor((f) => f.includes('victim') && f.includes('1 match'));
    await t.write('d');
    await t.waitFor('Type victim');
    await t.write('victin', KEYS.enter);
    await t.waitFor('"victin" does not match victim');
    await t.write(KEYS.backspace);
    await t.waitFor((f) => !f.includes('does not match'));
    await t.write('m', KEYS.enter);
    await t.waitFor('user victim deleted');
    await runed.request('POST', '/v1/users', { token: root, body: { name: 'victim' } });
  });

  it('deleting the current context warns, removes its token file and switches to another', async () => {
    const { store, files } = storeWith();
    const t = await open(store, '1');
    await t.write('/local', KEYS.enter, 'd');
    const dialog = await t.waitFor('Delete context "local"');
    expect(dialog.replace(/[│\s]+/g, ' ')).toMatch(/You are using it now: rune switches to "spare"/);
    await t.write('y');
    await t.waitFor((f) => f.includes('ctx:spare') && f.includes('context local deleted'));
    expect(existsSync(files.local)).toBe(false);
    expect(existsSync(files.spare)).toBe(true);
    expect(store.current()).toBe('spare');
    expect(Object.keys(store.contexts())).toEqual(['spare']);
  });

  it('the last context deleted: the Contexts screen, none selected', async () => {
    const { store } = storeWith();
    store.delete('spare');
    const t = await open(store, '1');
    await t.write('d', 'y');
    await t.waitFor((f) => f.includes('ctx:(none)') && f.includes('1:Contexts') && f.includes('no contexts yet'));
  });

  it('a revealed secret stands on a line of its own, without border characters', async () => {
    const t = await open(storeWith().store, '3');
    await t.write('n');
    await t.waitFor('Create a token');
    await t.write('reveal-me', KEYS.enter);
    await t.waitFor('shown once');
    await t.write('r');
    const frame = await t.waitFor(/^rune_tok_\w+$/m);
    const line = frame.split('\n').find((l) => l.startsWith('rune_tok_'))!;
    expect(line).toMatch(/^rune_tok_[0-9A-Za-z]{20}_[0-9A-Za-z]{49}$/);
    expect(line).not.toContain('│');
    await t.write('r', KEYS.enter, 'y');
    await t.waitFor('secret dismissed');
  });

  it('a long token pasted into Context add stays on its row, masked', async () => {
    const t = await open(storeWith().store, '1');
    await t.write('a');
    await t.waitFor('Add a context');
    await t.write(KEYS.tab, KEYS.tab);
    await t.paste(root);
    const frame = await t.waitFor(`(${root.length} chars)`);
    const line = frame.split('\n').find((l) => l.includes('chars)'))!;
    expect(line).toContain('•'.repeat(12));
    expect(frame).not.toContain(root.slice(-10));
    expect(frame.split('\n').every((l) => l.length <= columns)).toBe(true);
  });

  it('wizard: a new namespace can be typed (and is created), "never" shows the 30d cap, Review scrolls', async () => {
    const t = await open(storeWith().store, '5');
    await t.write('n');
    await t.waitFor('step 1 of');
    await t.write(`ci-${columns}`, KEYS.enter);
    await t.waitFor('step 2 of');
    await t.write(`brand-new-${columns}`);
    await t.waitFor(`brand-new-${columns}`);
    await t.write(KEYS.enter);
    await t.waitFor('step 3 of');
    await t.write(KEYS.down, ' ', KEYS.down, ' ', KEYS.enter); // cast + read + admin
    await t.waitFor('step 4 of');
    await t.write(KEYS.right); // 90d → never
    await t.waitFor('"never" becomes 30d');
    await t.write(KEYS.enter);
    await t.waitFor('step 5 of');
    await t.write(KEYS.enter);
    const review = await t.waitFor('step 6 of');
    expect(review.replace(/[│\s]+/g, ' ')).toContain('TTL 30d ("never" is capped)');
    const first = /lines 1–(\d+) of (\d+)/.exec(review);
    expect(first).not.toBeNull();
    await t.write(KEYS.down, KEYS.down);
    await t.waitFor(`lines 3–${Number(first![1]) + 2} of ${first![2]}`);
    await t.write(KEYS.enter);
    await t.waitFor('shown once');
    const ns = await runed.request('GET', '/v1/namespaces?limit=1000', { token: root });
    expect(ns.body.items.map((n: { name: string }) => n.name)).toContain(`brand-new-${columns}`);
    await t.write(KEYS.enter, 'y');
  });

  it('editor: a new policy\'s diff has no stray "-" line; ctrl-k deletes a line; ctrl-x then a paste replaces everything', async () => {
    const t = await open(storeWith().store, '4');
    await t.write('n');
    await t.waitFor('New policy');
    await t.write('\x18');
    await t.waitFor('all selected');
    const policy = `name: pasted-${columns}\nrules:\n  - resource: logs\n    verbs: [get]\n    namespace: "*"\nextra: line`;
    await t.paste(policy);
    await t.waitFor((f) => f.includes(`pasted-${columns}`) && !f.includes('new-policy'));
    // The cursor is on the last line ("extra: line", an error): ctrl-k removes it.
    await t.waitFor('error(s)');
    await t.write('\x0b');
    await t.waitFor((f) => !f.includes('extra: line') && f.includes('valid'));
    await t.write('\x13');
    const diff = await t.waitFor('changes to save');
    const lines = diff.split('\n').filter((l) => /^[-+ ] /.test(l));
    expect(lines.filter((l) => l.startsWith('-'))).toEqual([]);
    expect(lines[0]).toBe(`+ name: pasted-${columns}`);
    await t.write('y');
    await t.waitFor(`policy pasted-${columns} saved`);
  });
});
