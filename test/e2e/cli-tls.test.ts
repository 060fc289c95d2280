import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed } from '../helpers/runed.js';

describe('the CLI against an HTTPS runed, and RUNE_CONFIG', () => {
  let runed: Runed;
  let cert: string;
  let tokenFile: string;
  const cli = new Cli();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rune-cli-tls-'));
    const key = join(dir, 'key.pem');
    cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    runed = await Runed.start(['--tls-cert-file', cert, '--tls-key-file', key]);
    tokenFile = join(cli.home, 'root.token');
    // Bootstrap over HTTPS with the CLI itself, trusting the certificate through a context.
    writeFileSync(join(cli.home, 'boot.yaml'), `current-context: boot\ncontexts:\n  boot:\n    server: ${runed.url}\n    ca-file: ${cert}\n`);
    cli.ok(['admin', 'bootstrap', '--out-file', tokenFile], { env: { RUNE_CONFIG: join(cli.home, 'boot.yaml') } });
  });
  afterAll(async () => runed.cleanup());

  it('login with --ca-file trusts the certificate; without it the error says so', () => {
    const refused = cli.run(['login', 'tls-no-ca', '--server', runed.url, '--token-file', tokenFile]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error: cannot reach runed at https:\/\/127\.0\.0\.1:\d+ \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)\): the server's certificate is not trusted; give its CA with "rune login NAME --server https:/);
    expect(cli.ok(['login', 'tls', '--server', runed.url, '--token-file', tokenFile, '--ca-file', cert])).toMatch(/^Logged in to https:\/\/127\.0\.0\.1:\d+ as user root/);
    expect(cli.ok(['whoami', '-o', 'json'])).toContain('"name": "root"');
  });

  it('RUNE_CONFIG puts the contexts elsewhere, 0600', () => {
    const elsewhere = join(cli.home, 'other', 'rune.yaml');
    cli.ok(['login', 'moved', '--server', runed.url, '--token-file', tokenFile, '--ca-file', cert], { env: { RUNE_CONFIG: elsewhere } });
    expect(statSync(elsewhere).mode & 0o777).toBe(0o600);
    expect(cli.ok(['context', 'list'], { env: { RUNE_CONFIG: elsewhere } })).toMatch(/\*\s+moved\s+https:/);
    expect(cli.ok(['context', 'list'])).not.toContain('moved');
  });

  it('RUNE_TOKEN overrides the context\'s token', () => {
    const other = cli.ok(['admin', 'token', 'create', 'via-env', '--policies', 'readonly']).trim();
    const r = cli.run(['whoami', '-o', 'json'], { env: { RUNE_TOKEN: other } });
    expect(JSON.parse(r.stdout).token.name).toBe('via-env');
  });
});
