import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { Cli } from '../helpers/rune.js';
import { Runed } from '../helpers/runed.js';

/**
 * The seed guide "Bootstrap & first user", command by command, with the real binaries. The guide's
 * localhost:7863 and runed.example.com:7863 are this test's runed on a free loopback port.
 */
describe('the bootstrap & first user guide, as written', () => {
  let runed: Runed;
  let server: string;
  const cli = new Cli();
  const tokenFile = () => join(cli.home, '.rune/token');

  beforeAll(async () => {
    runed = await Runed.start();
    server = runed.url.replace('http://', '');
  });
  afterAll(async () => runed.cleanup());

  it('1. rune admin bootstrap --out-file ~/.rune/token writes the root token 0600, once', () => {
    const out = cli.ok(['admin', 'bootstrap', '--out-file', tokenFile()], { env: { RUNE_SERVER: server } });
    expect(out).toMatch(/^root token tok_\w+ created; secret written to .*\.rune\/token \(mode 0600\)\n$/);
    expect(statSync(tokenFile()).mode & 0o777).toBe(0o600);
    expect(statSync(join(cli.home, '.rune')).mode & 0o777).toBe(0o700);
    expect(readFileSync(tokenFile(), 'utf8')).toMatch(/^rune_tok_\w+_\w+\n$/);
    const again = cli.run(['admin', 'bootstrap', '--out-file', join(cli.home, 'second.token')], { env: { RUNE_SERVER: server } });
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^error: already bootstrapped: log in with an existing token \(rune login\)/);
    expect(() => statSync(join(cli.home, 'second.token'))).toThrow();
  });

  it('2. rune login admin --server … --token-file ~/.rune/token --namespace default; rune whoami', () => {
    expect(cli.ok(['login', 'admin', '--server', server, '--token-file', tokenFile(), '--namespace', 'default'])).toBe(
      `Logged in to http://${server} as user root; context "admin" is now current.\n`,
    );
    const config = join(cli.home, '.rune/config.yaml');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(parseYaml(readFileSync(config, 'utf8'))).toEqual({
      'current-context': 'admin',
      contexts: { admin: { server, namespace: 'default', 'token-file': tokenFile() } },
    });
    const me = cli.ok(['whoami']).split('\n');
    expect(me[0]).toMatch(/^SUBJECT\s+TYPE\s+TOKEN\s+POLICIES\s+CONTEXT\s+SERVER$/);
    expect(me[1]).toMatch(/^root\s+user\s+root\s+root\s+admin\s+http:\/\//);
    expect(JSON.parse(cli.ok(['whoami', '-o', 'json'])).rules).toEqual([{ resource: '*', verbs: ['*'], namespace: '*' }]);
  });

  it('3. create a real user and attach readwrite', () => {
    expect(cli.ok(['admin', 'user', 'create', 'alice', '--email', 'alice@example.com'])).toBe('user/alice saved\n');
    expect(cli.ok(['admin', 'policy', 'attach', 'readwrite', '--to-user', 'alice'])).toBe('policy/readwrite attached to user alice\n');
    const users = cli.ok(['admin', 'user', 'list']);
    expect(users).toMatch(/^NAME\s+EMAIL\s+POLICIES\s+AGE\n/);
    expect(users).toMatch(/\nalice\s+alice@example\.com\s+readwrite\s+\d+s\n/);
  });

  it('4. rune admin token create alice-laptop … --out-file ./alice.token', () => {
    const out = cli.ok(['admin', 'token', 'create', 'alice-laptop', '--subject-name', 'alice', '--policies', 'readwrite', '--ttl', '720h', '--out-file', './alice.token']);
    expect(out).toMatch(/^token\/alice-laptop tok_\w+ created for user alice; secret written to \.\/alice\.token \(mode 0600\)\n$/);
    expect(statSync(join(cli.home, 'alice.token')).mode & 0o777).toBe(0o600);
    const token = JSON.parse(cli.ok(['admin', 'token', 'list', '-o', 'json'])).find((t: { name: string }) => t.name === 'alice-laptop');
    expect(Date.parse(token.expiresAt) - Date.parse(token.createdAt)).toBe(720 * 3_600_000);
  });

  it('5. alice logs in (context dev), whoami; rune context list; rune use-context', () => {
    expect(cli.ok(['login', 'dev', '--server', server, '--token-file', './alice.token', '--namespace', 'default'])).toMatch(/as user alice; context "dev" is now current/);
    expect(cli.ok(['whoami'])).toMatch(/\nalice\s+user\s+alice-laptop\s+readwrite\s+dev\s/);
    const contexts = cli.ok(['context', 'list']);
    expect(contexts).toMatch(/^CURRENT\s+NAME\s+SERVER\s+NAMESPACE\n/);
    expect(contexts).toMatch(/\n\s+admin\s+127\.0\.0\.1:\d+\s+default\n\*\s+dev\s+127\.0\.0\.1:\d+\s+default\n/);
    // alice holds readwrite, which does not cover users.
    const denied = cli.run(['admin', 'user', 'list']);
    expect(denied.status).toBe(1);
    expect(denied.stderr).toBe('error: user alice may not list users: missing permission "list" on "users"\n');
    expect(cli.ok(['use-context', 'admin'])).toBe('Switched to context "admin".\n');
  });

  it('6. scoped policy: create from YAML, detach readwrite, attach alice-dev', () => {
    writeFileSync(
      join(cli.home, 'alice-dev-policy.yaml'),
      `name: alice-dev
description: Read/write only in 'dev' namespace
rules:
  - resource: "*"
    verbs: ["get", "list", "watch", "create", "update", "delete", "scale", "exec"]
    namespace: "dev"
`,
    );
    expect(cli.ok(['admin', 'policy', 'create', '-f', 'alice-dev-policy.yaml'])).toBe('policy/alice-dev created\n');
    expect(cli.ok(['admin', 'policy', 'detach', 'readwrite', '--from-user', 'alice'])).toBe('policy/readwrite detached from user alice\n');
    expect(cli.ok(['admin', 'policy', 'attach', 'alice-dev', '--to-user', 'alice'])).toBe('policy/alice-dev attached to user alice\n');
    // "Now alice can only act inside dev."
    expect(cli.run(['admin', 'can-i', 'delete', 'services', '-n', 'dev', '--as', 'alice']).stdout).toBe('yes\n');
    const prod = cli.run(['admin', 'can-i', 'delete', 'services', '-n', 'prod', '--as', 'alice', '--explain']);
    expect(prod.status).toBe(1);
    expect(prod.stdout).toMatch(/^no\ndenied: .*pinned to namespace "dev", not "prod"/);
  });

  it('7. rune admin token list; revoke; the next request is Unauthenticated', () => {
    const list = cli.ok(['admin', 'token', 'list']);
    expect(list).toMatch(/^ID\s+NAME\s+SUBJECT\s+TYPE\s+POLICIES\s+EXPIRES\s+STATUS\n/);
    const id = /(tok_\w+)\s+alice-laptop/.exec(list)![1]!;
    expect(cli.ok(['admin', 'token', 'revoke', id])).toBe(`token/${id} revoked\n`);
    const after = cli.run(['--context', 'dev', 'whoami']);
    expect(after.status).toBe(1);
    expect(after.stderr).toBe(`error: invalid or expired token: log in again with "rune login dev --server ${server} --token-file FILE"\n`);
  });
});
