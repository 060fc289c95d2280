import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed, ROOT } from '../helpers/runed.js';
import { findSshd, Sshd } from '../helpers/sshd.js';
import { Tmux } from '../helpers/tmux.js';

/**
 * Issue 12 over a real SSH session: a private sshd on loopback, key-based login, `rune` on the
 * remote pty, the local terminal a tmux pane. SSH coalesces keys, so this is where they bunch up.
 */
const found = findSshd();
const skip = 'missing' in found ? found.missing : undefined;
// Never silently: the reason is in the test's name and on the console.
if (skip) console.warn(`tui-ssh: skipped: ${skip}`);

let sshd: Sshd | undefined;
let runed: Runed | undefined;
let tmux: Tmux | undefined;
beforeAll(async () => {
  if (skip) return;
  if (!Tmux.available()) throw new Error('tmux is not installed: apt-get install -y tmux (.ci/run installs it)');
  sshd = await Sshd.start((found as { path: string }).path);
  runed = await Runed.start();
});
afterAll(async () => {
  tmux?.kill();
  sshd?.stop();
  await runed?.cleanup();
});

describe('the TUI over a real SSH session (own sshd, key login, tmux as the local terminal)', () => {
  it.skipIf(skip !== undefined)(`typing, Backspaces, a paste and a form, with several keys per read${skip ? ` (SKIPPED: ${skip})` : ''}`, async () => {
    const cli = new Cli();
    const root = await runed!.bootstrap();
    writeFileSync(join(cli.home, 'root.token'), root + '\n', { mode: 0o600 });
    cli.ok(['login', 'local', '--server', runed!.url, '--token-file', join(cli.home, 'root.token')]);

    tmux = new Tmux({ HOME: cli.home, PATH: process.env.PATH!, TERM: 'xterm-256color' });
    const t = tmux;
    t.type('seq 1 60 | sed "s/^/local line /"');
    t.send('Enter');
    await t.waitFor('local line 60');
    const remote = `cd ${ROOT} && env HOME=${cli.home} PATH=${process.env.PATH} node bin/rune`;
    t.type(sshd!.sshCommand(remote));
    t.send('Enter');
    await t.waitFor('as:root', 20_000);

    // 1, 2: a command and a filter in one send each.
    t.send(':pol', 'Enter');
    await t.waitFor('4:Policies');
    t.send('/readw', 'Enter');
    await t.waitFor((s) => s.includes('/readw') && s.includes('readwrite') && !s.includes('readonly'));
    t.send('Escape');
    await t.waitFor((s) => !s.includes('/readw'));
    // 6: held-down j and k, then Enter on the row they land on.
    t.send('j', 'j', 'j', 'k', 'k', 'Enter');
    await t.waitFor('Clone of cast');
    t.send('Escape');
    await t.waitFor((s) => !s.includes('Clone of cast'));
    // 4, 6: Backspaces and a cursor key among text in the prompt.
    t.send(':', 'poXXX', 'BSpace', 'BSpace', 'BSpace', 'l', 'Left', 'Right', 'Enter');
    await t.waitFor((s) => s.includes('4:Policies') && !/^:/m.test(s));
    // A real paste into the prompt.
    t.send(':');
    await t.waitFor('ctx  context');
    t.paste('users');
    await t.waitFor(':users');
    t.send('Enter');
    await t.waitFor('2:Users');
    // 3, 5: the form opened and filled in one send.
    t.send('n', 'erin', 'Down', 'erin@x.io', 'Enter');
    await t.waitFor('user erin saved');
    // 7: in the editor, End, Enter and a key in one send keep the auto-indent; a paste is verbatim.
    t.send(':pol', 'Enter');
    await t.waitFor('4:Policies');
    t.send('n');
    await t.waitFor('New policy');
    t.send('Down', 'Down', 'End', 'Enter', 'X');
    await t.waitFor((s) => /^4[ ✗!] {2}X/m.test(s));
    t.send('BSpace', 'BSpace', 'BSpace');
    t.paste('  - resource: users\n    verbs: [list]\n');
    await t.waitFor((s) => /^4[ ✗!] {2}- resource: users/m.test(s) && /^5[ ✗!] {4}verbs: \[list\]/m.test(s));
    t.send('Escape');
    await t.waitFor('Discard unsaved changes?');
    t.send('y');
    await t.waitFor((s) => !s.includes('New policy'));
    t.send(':tok', 'Enter');
    await t.waitFor('3:Tokens');
    t.send('nssh-bot', 'Enter');
    await t.waitFor('shown once');
    t.send('Enter');
    await t.waitFor('Leave without copying or saving?');
    t.send('y');
    await t.waitFor('secret dismissed');

    t.send('q');
    await t.waitFor((s) => !s.includes('as:root') && s.includes('local line 60'), 20_000);
    expect(t.format('#{alternate_on}')).toBe('0');

    expect((await runed!.request('GET', '/v1/users/erin', { token: root })).body).toMatchObject({ name: 'erin', email: 'erin@x.io' });
    const tokens = (await runed!.request('GET', '/v1/tokens?limit=500', { token: root })).body.items.map((x: { name: string }) => x.name);
    expect(tokens).toContain('ssh-bot');
  });
});
