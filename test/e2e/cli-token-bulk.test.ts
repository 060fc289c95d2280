import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { ROOT, Runed } from '../helpers/runed.js';
import { Tmux } from '../helpers/tmux.js';

const DAY = 86_400_000;

/** `rune admin token revoke --selector` and `rune admin token stale` end to end: the real binary against a real runed. */
describe('rune admin token revoke --selector, token stale', () => {
  let runed: Runed;
  const cli = new Cli();
  const ids: Record<string, string> = {};
  const status = (id: string) => JSON.parse(cli.ok(['admin', 'token', 'get', id, '-o', 'json'])).status as string;
  const mint = (name: string, subject: string) => {
    const out = cli.ok(['admin', 'token', 'create', name, '--subject-name', subject, '-o', 'json']);
    ids[name] = JSON.parse(out).token.id;
    return ids[name]!;
  };
  /** No API backdates a token: the data dir is written directly, as time would have. */
  const age = (id: string, days: number) => {
    const db = new Database(join(runed.dataDir, 'runed.db'));
    db.pragma('busy_timeout = 5000');
    db.prepare('UPDATE tokens SET created_at = ?, last_used_at = NULL WHERE id = ?').run(Date.now() - days * DAY, id);
    db.close();
  };

  beforeAll(async () => {
    runed = await Runed.start();
    const server = runed.url.replace('http://', '');
    cli.ok(['admin', 'bootstrap', '--server', server, '--out-file', join(cli.home, '.rune/token')]);
    cli.ok(['login', 'admin', '--server', server, '--token-file', join(cli.home, '.rune/token')]);
    cli.ok(['admin', 'user', 'create', 'leaver']);
    cli.ok(['admin', 'policy', 'attach', 'readonly', '--to-user', 'leaver']);
    for (const n of ['laptop', 'ci', 'desk']) mint(`leaver-${n}`, 'leaver');
    age(mint('idle-1', 'leaver'), 40);
    age(mint('idle-2', 'leaver'), 50);
  });
  afterAll(async () => runed.cleanup());

  it('--dry-run prints what would go and changes nothing', () => {
    const out = cli.ok(['admin', 'token', 'revoke', '--selector', 'subject=leaver,name-prefix=leaver-', '--dry-run']);
    expect(out).toMatch(/^ID\s+NAME\s+SUBJECT\s+TYPE\s+POLICIES\s+LAST-USED\s+AGE\s+STATUS\n/);
    expect(out).toContain('would revoke 3 token(s) matching subject=leaver,name-prefix=leaver- (dry run: nothing changed)\n');
    for (const n of ['laptop', 'ci', 'desk']) expect(out).toContain(`leaver-${n}`);
    expect(status(ids['leaver-ci']!)).toBe('active');
  });

  it('a bad selector is named before anything is sent (exit 1, nothing revoked)', () => {
    const r = cli.run(['admin', 'token', 'revoke', '--selector', 'subject=leaver,kind=robot']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('error: --selector: selector term "kind=robot" has "robot": kind is user or service\n');
    const both = cli.run(['admin', 'token', 'revoke', ids['leaver-ci']!, '--selector', 'subject=leaver']);
    expect([both.status, both.stderr]).toEqual([1, 'error: give a token id or --selector, not both\n']);
    expect(status(ids['leaver-ci']!)).toBe('active');
  });

  it('--expect that does not match exits non-zero and revokes nothing; the right count revokes them (json answer)', () => {
    const wrong = cli.run(['admin', 'token', 'revoke', '--selector', 'subject=leaver,name-prefix=leaver-', '--expect', '2']);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toBe('error: expected 2 token(s) to be revoked, but the selector matches 3: nothing was revoked\n');
    expect(status(ids['leaver-laptop']!)).toBe('active');
    const answer = JSON.parse(cli.ok(['admin', 'token', 'revoke', '--selector', 'subject=leaver,name-prefix=leaver-', '--expect', '3', '-o', 'json']));
    expect(answer).toMatchObject({ action: 'revoke', dryRun: false, count: 3, skipped: [] });
    for (const n of ['laptop', 'ci', 'desk']) expect(status(ids[`leaver-${n}`]!)).toBe('revoked');
    const yaml = cli.ok(['admin', 'token', 'revoke', '--selector', 'subject=leaver,name-prefix=leaver-', '-o', 'yaml']);
    expect(yaml).toMatch(/^action: revoke\n/m);
    expect(yaml).toMatch(/^count: 0$/m);
  });

  it('the caller\'s own token is listed as skipped', () => {
    const out = cli.ok(['admin', 'token', 'revoke', '--selector', 'subject=root', '--dry-run']);
    expect(out).toMatch(/would revoke 0 token\(s\) matching subject=root/);
    expect(out).toMatch(/^skipped tok_\w+ \(root\): the token making this call/m);
  });

  it('token revoke ID still revokes one token', () => {
    const id = mint('single', 'leaver');
    expect(cli.ok(['admin', 'token', 'revoke', id])).toBe(`token/${id} revoked\n`);
    expect(status(id)).toBe('revoked');
  });

  it('token stale lists never-used tokens older than --unused-for with owner, age and policies', () => {
    const out = cli.ok(['admin', 'token', 'stale', '--unused-for', '30d']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+SUBJECT\s+TYPE\s+POLICIES\s+LAST-USED\s+AGE\s+STATUS$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(1, 8))).toEqual([
      ['idle-2', 'leaver', 'user', 'readonly', 'never', '50d', 'active'],
      ['idle-1', 'leaver', 'user', 'readonly', 'never', '40d', 'active'],
    ]);
    const json = JSON.parse(cli.ok(['admin', 'token', 'stale', '--unused-for', '45d', '-o', 'json']));
    expect(json.map((t: { name: string }) => t.name)).toEqual(['idle-2']);
  });

  it('token stale --disable without a terminal and without --yes refuses and changes nothing', () => {
    const r = cli.run(['admin', 'token', 'stale', '--unused-for', '30d', '--disable']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('would disable 2 token(s) matching unused-for=30d');
    expect(r.stderr).toBe('error: refusing to disable 2 token(s) without a confirmation: stdin is not a terminal; review the list above and pass --yes to confirm\n');
    expect(status(ids['idle-1']!)).toBe('active');
  });

  it('on a terminal, token stale --disable asks for the count: a wrong answer disables nothing, the count disables them', async () => {
    if (!Tmux.available()) throw new Error('tmux is not installed: apt-get install -y tmux');
    const tmux = new Tmux({ HOME: cli.home, PATH: process.env.PATH!, TERM: 'xterm-256color', LANG: 'C.UTF-8' }, 120, 30);
    try {
      const command = `node ${join(ROOT, 'bin/rune')} admin token stale --unused-for 30d --selector name-prefix=idle-1 --disable`;
      tmux.type(command);
      tmux.send('Enter');
      await tmux.waitFor('Type 1 to confirm:');
      tmux.type('2');
      tmux.send('Enter');
      await tmux.waitFor('not confirmed ("2" is not 1): nothing was disabled');
      expect(status(ids['idle-1']!)).toBe('active');
      tmux.type(command);
      tmux.send('Enter');
      await tmux.waitFor((screen) => screen.split('Type 1 to confirm:').length === 3);
      tmux.type('1');
      tmux.send('Enter');
      await tmux.waitFor('disabled 1 token(s) matching name-prefix=idle-1,unused-for=30d');
      expect(status(ids['idle-1']!)).toBe('disabled');
      expect(status(ids['idle-2']!)).toBe('active');
    } finally {
      tmux.kill();
    }
  }, 60_000);

  it('token stale --disable --yes disables exactly what the preview showed', () => {
    const out = cli.ok(['admin', 'token', 'stale', '--unused-for', '30d', '--disable', '--yes']);
    expect(out).toContain('would disable 1 token(s) matching unused-for=30d\n');
    expect(out).toContain('disabled 1 token(s) matching unused-for=30d\n');
    expect(out).toMatch(/^skipped tok_\w+ \(idle-1\): already disabled$/m);
    expect(status(ids['idle-1']!)).toBe('disabled');
    expect(status(ids['idle-2']!)).toBe('disabled');
    const again = cli.ok(['admin', 'token', 'stale', '--unused-for', '30d', '--disable', '--yes']);
    expect(again).toContain('would disable 0 token(s)');
  });
});
