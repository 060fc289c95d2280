import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed, ROOT } from '../helpers/runed.js';
import { Tmux } from '../helpers/tmux.js';

/**
 * Issue 12 in a real terminal: whole words and Enter in one send-keys, real pastes, the
 * scrollback and the alternate screen as the shell had them, OSC 52 into tmux's own buffer.
 */
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

/** runed, a logged-in HOME, and a tmux pane with some shell history in it. */
async function setup(env: Record<string, string> = {}) {
  runed = await Runed.start();
  const cli = new Cli();
  const root = await runed.bootstrap();
  writeFileSync(join(cli.home, 'root.token'), root + '\n', { mode: 0o600 });
  cli.ok(['login', 'local', '--server', runed.url, '--token-file', join(cli.home, 'root.token')]);
  tmux = new Tmux({ HOME: cli.home, PATH: process.env.PATH!, TERM: 'xterm-256color', ...env });
  tmux.type('seq 1 100 | sed "s/^/shell line /"');
  tmux.send('Enter');
  await tmux.waitFor('shell line 100');
  return { cli, root, tmux, runed };
}

const startRune = async (t: Tmux) => {
  t.type(`node ${join(ROOT, 'bin/rune')}`);
  t.send('Enter');
  await t.waitFor('as:root');
};

describe('typing in a real terminal (tmux), several keys per read', () => {
  it('whole words with Enter in one send-keys: the prompt, the filter, a form, the wizard name', async () => {
    const { tmux: t, runed: d, root } = await setup();
    await startRune(t);
    t.send(':pol', 'Enter');
    await t.waitFor('4:Policies');
    t.send('/readw', 'Enter');
    await t.waitFor((s) => s.includes('/readw') && s.includes('readwrite') && !s.includes('readonly'));
    t.send('Escape');
    await t.waitFor((s) => !s.includes('/readw'));
    t.send(':tok', 'Enter');
    await t.waitFor('3:Tokens');
    t.send('nfast-bot', 'Enter');
    await t.waitFor('shown once');
    t.send('Enter');
    await t.waitFor('Leave without copying or saving?');
    t.send('y');
    await t.waitFor('secret dismissed');
    t.send(':usr', 'Enter');
    await t.waitFor('2:Users');
    t.send('n');
    await t.waitFor('Create or update a user');
    t.send('dave', 'Down', 'dave@x.io', 'Enter');
    await t.waitFor('user dave saved');
    t.send('5');
    await t.waitFor('5:Service accounts');
    t.send('nci-fast', 'Enter');
    await t.waitFor('step 2 of 6: Namespace');
    t.send('Escape', 'Escape');
    await t.waitFor((s) => !s.includes('step 1 of 6'));
    t.send('q');
    await t.waitFor((s) => !s.includes('as:root'));

    expect((await d.request('GET', '/v1/users/dave', { token: root })).body).toMatchObject({ name: 'dave', email: 'dave@x.io' });
    const tokens = (await d.request('GET', '/v1/tokens?limit=500', { token: root })).body.items.map((x: { name: string }) => x.name);
    expect(tokens).toContain('fast-bot');
  });

  it('held-down keys: Backspace x3 and j x3 in one send-keys', async () => {
    const { tmux: t } = await setup();
    await startRune(t);
    t.send(':', 'abcdef', 'BSpace', 'BSpace', 'BSpace');
    await t.waitFor((s) => /^:abc\s*$/m.test(s));
    t.send('Escape', ':pol', 'Enter');
    await t.waitFor((s) => s.includes('4:Policies') && s.includes('readwrite'));
    t.send('j', 'j', 'j', 'k', 'k', 'Enter');
    await t.waitFor('Clone of cast');
    // The frame is redrawn in place: after the editor the header is still the first row.
    t.send('Escape');
    const list = await t.waitFor((s) => !s.includes('Clone of cast'));
    expect(list.split('\n')[0]).toMatch(/^rune ctx:local/);
    expect(list.split('\n')[1]).toMatch(/^Policies \(5\)/);
  });

  it('paste-buffer -p: a multi-line policy pasted into the editor keeps its indentation exactly and saves', async () => {
    const { tmux: t, runed: d, root } = await setup();
    await startRune(t);
    t.send(':pol', 'Enter');
    await t.waitFor('4:Policies');
    t.send('n');
    await t.waitFor('New policy');
    t.send('-N', '10', 'Down');
    t.send('End');
    t.send('-N', '200', 'BSpace');
    await t.waitFor((s) => !s.includes('name:') && /^1 /m.test(s) && !/^2 /m.test(s));
    const policy = ['name: pasted-in-tmux', 'description: "pasted"', 'rules:', '  - resource: services', '    verbs: [get, list]', '    namespace: dev', ''].join('\n');
    t.paste(policy);
    await t.waitFor((s) => /^6 {5}namespace: dev/m.test(s));
    const screen = t.capture();
    expect(screen).toMatch(/^4 {3}- resource: services/m);
    expect(screen).toMatch(/^5 {5}verbs: \[get, list\]/m);
    t.send('C-s');
    await t.waitFor('changes to save');
    t.send('y');
    await t.waitFor('policy pasted-in-tmux saved');
    const saved = await d.request('GET', '/v1/policies/pasted-in-tmux', { token: root });
    expect(saved.body.rules).toEqual([{ resource: 'services', verbs: ['get', 'list'], namespace: 'dev' }]);
  });

  it('a paste into the prompt is text, not keys', async () => {
    const { tmux: t } = await setup();
    await startRune(t);
    t.send(':');
    await t.waitFor('ctx  context');
    t.paste('users');
    await t.waitFor(':users');
    t.send('Enter');
    await t.waitFor('2:Users');
  });
});

describe('the terminal is left as it was found', () => {
  it('the pane\'s scrollback is untouched by a session, and the shell\'s screen is back after q', async () => {
    const { tmux: t } = await setup();
    // What any command adds to the history (its command line scrolling up), measured with `true`.
    const start = Number(t.format('#{history_size}'));
    t.type('true');
    t.send('Enter');
    await t.waitForFormat('#{history_size}', String(start + 1));
    const before = Number(t.format('#{history_size}'));
    const raw = join(mkdtempSync(join(tmpdir(), 'rune-raw-')), 'pane.log');
    t.record(raw);
    await startRune(t);
    t.send(':pol', 'Enter');
    await t.waitFor('4:Policies');
    t.send('j', 'j', '/read');
    await t.waitFor('/read');
    t.send('Escape', '?');
    await t.waitFor('Keys (Esc closes)');
    t.send('Escape', 'q');
    await t.waitFor((s) => !s.includes('as:root') && s.includes('shell line 100'));
    expect(Number(t.format('#{history_size}'))).toBe(before + 1);
    // No frame cleared the screen or the scrollback (ESC[2J, ESC[3J), on any key.
    const written = readFileSync(raw, 'latin1');
    expect(written).toContain('4:Policies');
    expect(written).not.toContain('\x1b[2J');
    expect(written).not.toContain('\x1b[3J');
    expect(t.capture(true)).toContain('shell line 1\n');
    expect(t.format('#{alternate_on}')).toBe('0');
  });

  it('after a $EDITOR round trip with a real vi, the TUI is back on the alternate screen, and the shell after q', async () => {
    const { tmux: t, runed: d, root } = await setup({ EDITOR: 'vi -u NONE -i NONE -n' });
    const made = await d.request('POST', '/v1/policies', { token: root, raw: { contentType: 'application/yaml', data: 'name: edit-me\ndescription: "before"\nrules:\n  - resource: services\n    verbs: [get]\n    namespace: dev\n' } });
    expect(made.status).toBe(201);
    await startRune(t);
    t.send(':pol', 'Enter');
    await t.waitFor('edit-me');
    t.send('/edit-me', 'Enter');
    await t.waitFor('(Esc clears)');
    t.send('e');
    await t.waitFor('description: "before"');
    t.send(':%s/before/after vi/', 'Enter');
    t.send(':wq', 'Enter');
    // Back in the TUI's own editor with the edited text: saved only with ctrl-s, after the diff.
    await t.waitFor((s) => s.includes('from $EDITOR') && s.includes('description: "after vi"'));
    expect(t.format('#{alternate_on}')).toBe('1');
    expect(t.capture()).toContain('as:root');
    t.send('C-s');
    await t.waitFor('changes to save');
    t.send('y');
    await t.waitFor('policy edit-me saved');
    expect((await d.request('GET', '/v1/policies/edit-me', { token: root })).body.description).toBe('after vi');
    t.send('q');
    await t.waitFor((s) => !s.includes('as:root') && s.includes('shell line 100'));
    expect(t.format('#{alternate_on}')).toBe('0');
  });

  it('c with set-clipboard on: the secret lands in tmux\'s buffer, and leaving still asks until the operator confirms', async () => {
    const { tmux: t } = await setup();
    t.tmux('set-option', '-s', 'set-clipboard', 'on');
    await startRune(t);
    t.send('nclip-bot', 'Enter');
    await t.waitFor('shown once');
    t.send('r');
    const revealed = await t.waitFor((s) => SECRET.test(flat(s)));
    const secret = SECRET.exec(flat(revealed))![0];
    t.send('c');
    await t.waitFor('Sent to the terminal clipboard');
    const deadline = Date.now() + 5000;
    let buffer = '';
    while (Date.now() < deadline && !buffer.includes(secret)) {
      try {
        buffer = t.tmux('show-buffer');
      } catch {
        buffer = ''; // no buffer yet
      }
      if (!buffer.includes(secret)) await new Promise((r) => setTimeout(r, 50));
    }
    expect(buffer).toBe(secret);
    t.send('Enter');
    await t.waitFor('Did the copy arrive');
    t.send('y');
    await t.waitFor('secret dismissed');
    t.send('q');
    await t.waitFor((s) => !s.includes('as:root'));
    expect(flat(t.capture(true))).not.toContain(secret);
  });
});
