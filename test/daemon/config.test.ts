import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, loadConfig, parseListen } from '../../src/daemon/config.js';
import { runRuned } from '../helpers/runed.js';

const file = (text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'runed-config-')), 'runed.yaml');
  writeFileSync(path, text);
  return path;
};

describe('daemon configuration', () => {
  it('derives RUNE_ environment names from keys', () => {
    expect(envName('auth.allowRemoteAdmin')).toBe('RUNE_AUTH_ALLOW_REMOTE_ADMIN');
    expect(envName('auth.tokenMaxTtl')).toBe('RUNE_AUTH_TOKEN_MAX_TTL');
    expect(envName('dataDir')).toBe('RUNE_DATA_DIR');
    expect(envName('log.level')).toBe('RUNE_LOG_LEVEL');
  });

  it('file < environment < flags', () => {
    const path = file('listen: 127.0.0.1:1000\nauth:\n  tokenMaxTtl: 30d\n  tokenDefaultTtl: 1d\nlog:\n  level: warn\n');
    const fromFile = loadConfig(['--config', path], {});
    expect(fromFile).toMatchObject({ listen: '127.0.0.1:1000', auth: { tokenMaxTtl: 30 * 86_400_000, tokenDefaultTtl: 86_400_000 }, log: { level: 'warn' } });
    const fromEnv = loadConfig(['--config', path], { RUNE_LISTEN: '127.0.0.1:2000', RUNE_LOG_LEVEL: 'debug' });
    expect(fromEnv).toMatchObject({ listen: '127.0.0.1:2000', log: { level: 'debug' } });
    const fromFlags = loadConfig(['--config', path, '--listen', '127.0.0.1:3000', '--log-level=error'], { RUNE_LISTEN: '127.0.0.1:2000' });
    expect(fromFlags).toMatchObject({ listen: '127.0.0.1:3000', log: { level: 'error' } });
  });

  it('accepts snake_case keys as rune\'s docs write them', () => {
    const config = loadConfig(['--config', file('auth:\n  allow_remote_admin: true\n  token_max_ttl: 90d\n')], {});
    expect(config.auth).toMatchObject({ allowRemoteAdmin: true, tokenMaxTtl: 90 * 86_400_000 });
  });

  it('takes any setting with --set and boolean flags without a value', () => {
    const config = loadConfig(['--allow-remote-admin', '--set', 'cors.allowedOrigins=https://a.example, https://b.example'], {});
    expect(config.auth.allowRemoteAdmin).toBe(true);
    expect(config.cors.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it.each([
    [['--config', '/nonexistent/runed.yaml'], {}, 'cannot read config file /nonexistent/runed.yaml: ENOENT'],
    [['--bogus'], {}, 'unknown flag --bogus'],
    [['--listen'], {}, '--listen needs a value'],
    [['--listen', 'nowhere'], {}, 'listen "nowhere" must be host:port'],
    [['--token-max-ttl', 'forever'], {}, 'auth.tokenMaxTtl (--token-max-ttl) must be a positive duration'],
    [['--set', 'auth.sweepInterval=30d'], {}, 'auth.sweepInterval must be at most 24d (a timer cannot wait longer), not 30d'],
    [['--set', 'limits.headersTimeout=1m'], {}, 'limits.headersTimeout (1m) must not be longer than limits.requestTimeout (30s): set both'],
    [['--token-default-ttl', '40000d'], {}, 'auth.tokenDefaultTtl (--token-default-ttl) must be at most 36500d (100 years)'],
    [['--set', 'auth.tokenMaxTTL=1d'], {}, 'unknown setting "auth.tokenMaxTTL" (did you mean "auth.tokenMaxTtl"?)'],
    [[], { RUNE_AUTH_ALLOW_REMOTE_ADMIN: 'yes' }, 'auth.allowRemoteAdmin (RUNE_AUTH_ALLOW_REMOTE_ADMIN) must be true or false'],
    [['--token-default-ttl', '90d', '--token-max-ttl', '30d'], {}, 'auth.tokenDefaultTtl must not be longer than auth.tokenMaxTtl'],
    [['--tls-cert-file', '/x.pem'], {}, 'tls.certFile and tls.keyFile must be set together'],
  ] as const)('refuses %j with a clear message', (args, env, message) => {
    expect(() => loadConfig([...args], env)).toThrow(message);
  });

  it('names the store in the file, RUNE_STORE or --store; SQLite without any', () => {
    const url = 'postgres://rune@db.example:5432/runed';
    expect(loadConfig([], {}).store).toBeUndefined();
    expect(loadConfig(['--store', 'sqlite'], {}).store).toBeUndefined();
    expect(loadConfig(['--config', file(`store: ${url}\n`)], {}).store).toBe(url);
    expect(loadConfig([], { RUNE_STORE: url }).store).toBe(url);
    expect(loadConfig(['--store', url], { RUNE_STORE: 'postgres://other@h/db' }).store).toBe(url);
    const withFile = loadConfig(['--store', url, '--store-password-file', 'pw.txt'], {});
    expect(withFile.storePasswordFile).toMatch(/^\/.*\/pw\.txt$/);
  });

  it.each([
    [['--store', 'postgres://rune:hunter2@db:5432/runed'], 'store: must not carry a password'],
    [['--store', 'mysql://rune@db/runed'], 'store: must start with postgres://'],
    [['--store', 'postgres://rune@db:5432/'], 'store: must name one database'],
    [['--store-password-file', '/pw'], 'storePasswordFile is for a PostgreSQL store'],
  ] as const)('refuses the store %j', (args, message) => {
    expect(() => loadConfig([...args], {})).toThrow(message);
  });

  it('runed names the password sources when a store URL carries a password, without echoing it', () => {
    const r = runRuned(['--store', 'postgres://rune:hunter2@127.0.0.1:1/runed']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^runed: store: must not carry a password .*PGPASSWORD/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('runed says in one line which store it cannot reach, exits 1 and leaves its data dir unlocked', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'runed-nostore-'));
    for (const args of [['--listen', '127.0.0.1:0'], ['audit', 'verify']]) {
      const r = runRuned([...args, '--data-dir', dataDir, '--store', 'postgres://rune@127.0.0.1:1/runed']);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^runed: cannot open the store \(postgres 127\.0\.0\.1:1\/runed\): PostgreSQL at 127\.0\.0\.1:1\/runed is unreachable: .*ECONNREFUSED.*\n$/);
    }
    expect(existsSync(join(dataDir, 'runed.lock'))).toBe(false);
    expect(existsSync(join(dataDir, 'runed.db'))).toBe(false);
  });

  it('refuses unknown keys and bad YAML in the file', () => {
    expect(() => loadConfig(['--config', file('auth:\n  alowRemoteAdmin: true\n')], {})).toThrow(/unknown setting "auth.alowRemoteAdmin" \(did you mean "auth.allowRemoteAdmin"\?\)/);
    expect(() => loadConfig(['--config', file('listen: [\n')], {})).toThrow(/not valid YAML/);
    expect(() => loadConfig(['--config', file('- a\n')], {})).toThrow(/must be a mapping/);
  });

  it.each([
    ['127.0.0.1:7863', { host: '127.0.0.1', port: 7863 }],
    ['[::1]:80', { host: '::1', port: 80 }],
    [':7863', { host: '0.0.0.0', port: 7863 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('listen %s', (text, expected) => expect(parseListen(text)).toEqual(expected));

  it('runed exits 2 with one line on stderr for a bad config', () => {
    const r = runRuned(['--listen', 'nowhere']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('runed: listen "nowhere" must be host:port, e.g. 127.0.0.1:7863\n');
  });

  it('runed --help lists every setting with its environment variable', () => {
    const r = runRuned(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('auth.tokenMaxTtl');
    expect(r.stdout).toContain('RUNE_AUTH_ALLOW_REMOTE_ADMIN');
  });
});
