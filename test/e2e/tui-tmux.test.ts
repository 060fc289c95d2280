import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RuneClient } from '../../src/api/client.js';
import { Cli } from '../helpers/rune.js';
import { Runed, ROOT } from '../helpers/runed.js';
import { Tmux } from '../helpers/tmux.js';

const SECRET = /rune_tok_[0-9A-Za-z]{20}_[0-9A-Za-z]{49}/;
const flat = (screen: string) => screen.replace(/[│\s]+/g, '');

beforeAll(() => {
  if (!Tmux.available()) throw new Error('tmux is not installed: apt-get install -y tmux (.ci/run installs it)');
});

let tmux: Tmux | undefined;
let runed: Runed | undefined;
afterEach(async () => {
  tmux?.kill();
  tmux = undefined;
  await runed?.cleanup();
  runed = undefined;
});

describe('the TUI in a real terminal (tmux, 80x24)', () => {
  it('creates a token: masked, revealed on r, absent after leaving and after exit, and it works', async () => {
    runed = await Runed.start();
    const cli = new Cli();
    const tokenFile = join(cli.home, 'root.token');
    writeFileSync(tokenFile, (await runed.bootstrap()) + '\n', { mode: 0o600 });
    cli.ok(['login', 'local', '--server', runed.url, '--token-file', tokenFile]);

    tmux = new Tmux({ HOME: cli.home, PATH: process.env.PATH!, TERM: 'xterm-256color' });
    tmux.type(`node ${join(ROOT, 'bin/rune')}`);
    tmux.send('Enter');
    await tmux.waitFor('as:root');
    tmux.send('n');
    await tmux.waitFor('Create a token');
    tmux.type('tmux-made');
    await tmux.waitFor('tmux-made');
    tmux.send('Enter');
    const masked = await tmux.waitFor('shown once');
    expect(masked).toContain('•'.repeat(24));
    expect(flat(masked)).not.toMatch(SECRET);

    tmux.send('r');
    const revealed = await tmux.waitFor((s) => SECRET.test(flat(s)));
    const secret = SECRET.exec(flat(revealed))![0];

    tmux.send('Enter');
    await tmux.waitFor('Leave without copying or saving?');
    tmux.send('y');
    await tmux.waitFor('secret dismissed');
    expect(flat(tmux.capture(true))).not.toContain(secret);

    tmux.send('q');
    await tmux.waitFor((s) => !s.includes('as:root'));
    const scrollback = flat(tmux.capture(true));
    expect(scrollback).not.toContain(secret);
    expect(scrollback).not.toContain(secret.slice(-40));

    const me = await new RuneClient({ server: runed.url, token: secret }).whoami();
    expect(me).toMatchObject({ subject: { name: 'root' }, token: { name: 'tmux-made' } });
  });

  it('the service-account wizard end to end: its token works only in its namespace', async () => {
    runed = await Runed.start();
    const cli = new Cli();
    const root = await runed.bootstrap();
    writeFileSync(join(cli.home, 'root.token'), root + '\n', { mode: 0o600 });
    await runed.request('POST', '/v1/namespaces', { token: root, body: { name: 'stg' } });
    cli.ok(['login', 'local', '--server', runed.url, '--token-file', join(cli.home, 'root.token')]);

    tmux = new Tmux({ HOME: cli.home, PATH: process.env.PATH!, TERM: 'xterm-256color' });
    tmux.type(`cd ${cli.home} && node ${join(ROOT, 'bin/rune')}`);
    tmux.send('Enter');
    await tmux.waitFor('as:root');
    tmux.send('5');
    await tmux.waitFor('5:Service accounts');
    tmux.send('n');
    await tmux.waitFor('step 1 of 6: Name');
    tmux.type('ci-stg');
    await tmux.waitFor('ci-stg');
    tmux.send('Enter');
    await tmux.waitFor('step 2 of 6: Namespace');
    tmux.send('Down');
    tmux.send('Down'); // (cluster-wide), default, stg
    tmux.send('Enter');
    await tmux.waitFor('step 3 of 6: Permissions');
    tmux.send('Enter');
    await tmux.waitFor('step 4 of 6: TTL');
    tmux.send('Enter'); // 90d
    await tmux.waitFor('step 5 of 6: Description');
    tmux.type('deploys to stg');
    await tmux.waitFor('deploys to stg');
    tmux.send('Enter');
    const review = await tmux.waitFor('step 6 of 6: Review');
    expect(review).toContain('ci-stg · namespace stg · cast · TTL 90d');
    expect(review).toContain('name: ci-stg-cast');
    tmux.send('Enter');
    await tmux.waitFor('shown once');
    tmux.send('w');
    await tmux.waitFor('Save to:');
    tmux.send('Enter'); // the suggested ci-stg.token
    await tmux.waitFor('mode 0600');
    tmux.send('Enter');
    await tmux.waitFor((s) => s.includes('ci-stg') && !s.includes('shown once'));
    tmux.send('q');
    await tmux.waitFor((s) => !s.includes('as:root'));

    const { readFileSync, statSync } = await import('node:fs');
    const file = join(cli.home, 'ci-stg.token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = readFileSync(file, 'utf8').trim();
    const can = async (verb: string, resource: string, namespace: string) =>
      (await runed!.request('POST', '/v1/authz/check', { token: secret, body: { verb, resource, namespace } })).body.allowed;
    expect(await can('create', 'services', 'stg')).toBe(true);
    expect(await can('create', 'services', 'prod')).toBe(false);
    expect(await can('create', 'services', 'default')).toBe(false);
    expect((await runed.request('GET', '/v1/whoami', { token: secret })).body.subject).toMatchObject({ name: 'ci-stg', type: 'service' });
  });

  it('npm start on a fresh HOME: starts runed, bootstraps, opens the TUI; run again, it reuses both', async () => {
    const home = mkdtempSync(join(tmpdir(), 'rune-quickstart-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    tmux = new Tmux({ HOME: home, PATH: process.env.PATH!, TERM: 'xterm-256color', RUNE_LISTEN: `127.0.0.1:${port}` });
    try {
      tmux.type(`node ${join(ROOT, 'scripts/start.js')}`);
      tmux.send('Enter');
      await tmux.waitFor('as:root', 20_000);
      expect(tmux.capture()).toContain('ctx:local');
      tmux.send('q');
      await tmux.waitFor((s) => s.includes('bootstrapped: root token saved') && !s.includes('as:root'), 20_000);
      tmux.type(`node ${join(ROOT, 'scripts/start.js')}`);
      tmux.send('Enter');
      await tmux.waitFor('as:root', 20_000);
      tmux.send('q');
      const after = await tmux.waitFor((s) => !s.includes('as:root') && s.includes('runed answers'), 20_000);
      expect(after).toContain(`runed answers on 127.0.0.1:${port}`);
      expect(after.match(/bootstrapped:/g)).toHaveLength(1);
    } finally {
      spawnSync('pkill', ['-f', `${home}/.rune/runed`]);
    }
  });

  it('without a terminal, rune says how to use the CLI and exits non-zero', () => {
    const r = new Cli().run([]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: rune without arguments opens the interactive UI, which needs a terminal; for scripts use the CLI: rune admin --help\n');
  });
});
