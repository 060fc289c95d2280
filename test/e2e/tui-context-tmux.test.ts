import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed, ROOT } from '../helpers/runed.js';
import { Tmux } from '../helpers/tmux.js';

/** Issue 13 in a real terminal: `rune --context NAME` opens the UI there; CJK columns line up in cells. */
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

describe('rune --context NAME', () => {
  it.each([
    [80, 24],
    [120, 40],
  ])('at %ix%i opens the UI in that context (not the help, not exit 1); a CJK name keeps the columns in place', async (columns, rows) => {
    runed = await Runed.start();
    const cli = new Cli();
    const root = await runed.bootstrap();
    writeFileSync(join(cli.home, 'root.token'), root + '\n', { mode: 0o600 });
    cli.ok(['login', 'first', '--server', runed.url, '--token-file', join(cli.home, 'root.token')]);
    cli.ok(['login', 'second', '--server', runed.url, '--token-file', join(cli.home, 'root.token')]);
    cli.ok(['use-context', 'first']);
    await runed.request('POST', '/v1/tokens', { token: root, body: { name: '東京-deploy', description: '🚀' } });
    await runed.request('POST', '/v1/tokens', { token: root, body: { name: 'plain-deploy' } });
    tmux = new Tmux({ HOME: cli.home, PATH: process.env.PATH!, TERM: 'xterm-256color', LANG: 'C.UTF-8' }, columns, rows);
    tmux.type(`node ${join(ROOT, 'bin/rune')} --context second`);
    tmux.send('Enter');
    const screen = await tmux.waitFor((s) => s.includes('ctx:second') && s.includes('東京-deploy') && s.includes('plain-deploy'));
    // The terminal itself places the cells: SUBJECT starts in the same column on both rows.
    const at = (name: string) => {
      const line = screen.split('\n').find((l) => l.includes(name))!;
      return [...line.slice(0, line.indexOf(' root '))].reduce((n, ch) => n + (/[\u3000-\u9fff]/.test(ch) ? 2 : 1), 0);
    };
    expect(at('東京-deploy')).toBe(at('plain-deploy'));
    tmux.send('q');
    await tmux.waitFor((s) => !s.includes('ctx:second'));
    // Not persisted: the current context is still "first".
    expect(readFileSync(join(cli.home, '.rune', 'config.yaml'), 'utf8')).toMatch(/^current-context: first$/m);
  }, 30_000);

  it('without a terminal it says the UI needs one (exit 2), as plain `rune` does', () => {
    const r = new Cli().run(['--context', 'prod']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/opens the interactive UI, which needs a terminal/);
  });
});
