import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed } from '../helpers/runed.js';

describe('the contexts file is parsed once per change', () => {
  let runed: Runed;
  const cli = new Cli();
  const config = join(cli.home, '.rune', 'config.yaml');
  const cache = join(cli.home, '.rune', '.config.yaml.json');

  beforeAll(async () => {
    runed = await Runed.start();
    const server = runed.url.replace('http://', '');
    writeFileSync(join(cli.home, 'root.token'), await runed.bootstrap(), { mode: 0o600 });
    cli.ok(['login', 'first', '--server', server, '--token-file', join(cli.home, 'root.token')]);
    cli.ok(['login', 'second', '--server', server, '--token-file', join(cli.home, 'root.token')]);
  });
  afterAll(() => runed.cleanup());

  it('keeps a 0600 parsed copy beside the file, and follows a hand edit of the file', () => {
    cli.ok(['whoami']);
    expect(statSync(cache).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(cache, 'utf8')).doc['current-context']).toBe('second');
    writeFileSync(config, readFileSync(config, 'utf8').replace('current-context: second', 'current-context: first'));
    expect(cli.ok(['whoami'])).toMatch(/\bfirst\b/);
    expect(JSON.parse(readFileSync(cache, 'utf8')).doc['current-context']).toBe('first');
  });

  it('a change made by rune drops the old parsed copy at once (it may hold a removed token)', () => {
    cli.ok(['whoami']);
    cli.ok(['context', 'delete', 'second']);
    let cached = '';
    try {
      cached = readFileSync(cache, 'utf8');
    } catch {
      // removed: nothing of "second" is left
    }
    expect(cached).not.toContain('second');
  });
});
