import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import React from 'react';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ContextStore } from '../../src/config/contexts.js';
import { App } from '../../src/app/App.js';
import { KEYS, renderTui } from '../helpers/renderTui.js';
import { Runed } from '../helpers/runed.js';

let runed: Runed;
let root: string;

beforeAll(async () => {
  runed = await Runed.start();
  root = await runed.bootstrap();
});
afterAll(async () => runed.cleanup());

let app: ReturnType<typeof renderTui> | undefined;
afterEach(() => {
  app?.unmount();
  app = undefined;
});

describe('the service-account wizard, CI trust path', () => {
  it('binds the repository and environment exactly, shows the claims in the review, ends with the snippet instead of a secret', async () => {
    const store = new ContextStore(join(mkdtempSync(join(tmpdir(), 'rune-tui-trust-')), 'config.yaml'));
    store.set('local', { server: runed.url, token: root, namespace: 'default' });
    store.use('local');
    const t = (app = renderTui(<App store={store} env={{}} />, { columns: 120, rows: 40 }));
    await t.waitFor('as:root');
    await t.press('5');
    await t.waitFor('5:Service accounts');
    await t.press('n');
    await t.waitFor('step 1 of 6: Name');
    await t.type('deploy');
    await t.press(KEYS.enter);
    await t.waitFor('step 2 of 6: Namespace');
    await t.press(KEYS.enter);
    await t.waitFor('step 3 of 6: Permissions');
    await t.press(KEYS.enter);
    await t.waitFor('step 4 of 6: TTL');
    await t.press(KEYS.down);
    await t.waitFor('step 4 of 6: Credential');
    await t.press(KEYS.enter);
    await t.waitFor('step 5 of 6: CI job');
    await t.type('acme/api');
    await t.press(KEYS.down, KEYS.right); // Bind to: branch → environment
    await t.waitFor('Environment:');
    await t.press(KEYS.enter);
    await t.waitFor('name the environment the job runs for: a trust binds it exactly');
    await t.press(KEYS.down);
    await t.type('stg');
    await t.press(KEYS.enter);
    const review = await t.waitFor('step 6 of 6: Review');
    expect(review).toContain('deploy · cluster-wide · cast · CI trust (no stored secret)');
    expect(review).toContain('iss = https://token.actions.githubusercontent.com');
    expect(review).toContain(`aud = ${runed.url}`);
    expect(review).toContain('environment = stg');
    expect(review).toContain('repository = acme/api');
    expect(review).toContain('sub = repo:acme/api:environment:stg');
    await t.press(KEYS.enter);
    const done = await t.waitFor('add this step to the workflow');
    expect(done).toContain('id-token: write');
    expect(done).toContain('--oidc-trust deploy-gha');
    expect(done).not.toContain('rune_tok_');
    await t.press(KEYS.enter);
    const list = await t.waitFor((f) => f.includes('created with trust deploy-gha') && /deploy\s+\*\s+cast\s+cast\s+deploy-gha/.test(f));
    expect(list).toMatch(/TRUSTS/);

    const trust = await runed.request('GET', '/v1/trusts/deploy-gha', { token: root });
    expect(trust.body).toMatchObject({ serviceAccount: 'deploy', audience: runed.url, claims: { environment: 'stg', repository: 'acme/api', sub: 'repo:acme/api:environment:stg' } });
    const tokens = await runed.request('GET', '/v1/tokens?subject=deploy&status=active', { token: root });
    expect(tokens.body.items).toEqual([]);
  });
});
