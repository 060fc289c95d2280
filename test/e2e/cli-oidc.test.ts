import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIssuer, type IssuerKey } from '../helpers/oidcIssuer.js';
import { Cli } from '../helpers/rune.js';
import { Runed, ROOT } from '../helpers/runed.js';

const AUDIENCE = 'https://runed.example/stg';
const SUB = 'repo:acme/api:environment:stg';

describe('rune admin trust and rune login --oidc-trust', () => {
  let issuer: TestIssuer;
  let key: IssuerKey;
  let runed: Runed;
  let server: string;
  const admin = new Cli();
  /** rune in its own process while this one keeps serving the issuer; expects exit 0. */
  const ok = async (cli: Cli, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const r = await cli.runAsync(args, { env });
    if (r.status !== 0) throw new Error(`rune ${args.join(' ')} exited ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  };
  const jobToken = () => issuer.sign(key, { aud: AUDIENCE, sub: SUB, repository: 'acme/api', environment: 'stg' });

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    key = await issuer.newKey('ES256');
    runed = await Runed.start();
    server = runed.url.replace('http://', '');
    admin.ok(['admin', 'bootstrap', '--server', server, '--out-file', join(admin.home, '.rune/token')]);
    admin.ok(['login', 'admin', '--server', server, '--token-file', join(admin.home, '.rune/token')]);
    admin.ok(['admin', 'service', 'create', 'deployer', '--namespace', 'stg', '--permissions', 'cast', '--out-file', 'deployer.token']);
  });
  afterAll(async () => {
    await runed.cleanup();
    await issuer.close();
  });

  it('trust create, list, get (-o json|yaml), snippet; a glob is refused without --allow-glob', () => {
    const base = ['--issuer', issuer.url, '--audience', AUDIENCE, '--service-account', 'deployer'];
    expect(admin.ok(['admin', 'trust', 'create', 'gh-stg', ...base, '--claim', `sub=${SUB}`, '--claim', 'repository=acme/api', '--ttl', '10m'])).toBe(
      'trust/gh-stg created for serviceaccount/deployer (tokens live 10m); next: rune admin trust snippet gh-stg --for github-actions\n',
    );
    const glob = admin.run(['admin', 'trust', 'create', 'gh-any', ...base, '--claim', 'repository=acme/*']);
    expect(glob.status).toBe(1);
    expect(glob.stderr).toBe('error: claims.repository "acme/*" is a pattern: patterns are refused unless allowGlob is true (--allow-glob); bind the exact value instead\n');
    const allowed = admin.run(['admin', 'trust', 'create', 'gh-any', ...base, '--claim', 'repository=acme/*', '--allow-glob']);
    expect(allowed.status).toBe(0);
    expect(allowed.stderr).toMatch(/^warning: trust\/gh-any: the trust pins neither "repository" nor "sub" exactly/);

    expect(admin.ok(['admin', 'trust', 'list'])).toMatch(new RegExp(`^NAME\\s+SERVICE-ACCOUNT\\s+ISSUER\\s+AUDIENCE\\s+CLAIMS\\s+TTL\\ngh-any\\s+deployer\\s+.*\\ngh-stg\\s+deployer\\s+${issuer.url}\\s+${AUDIENCE}\\s+repository=acme/api,sub=${SUB}\\s+10m\\n$`));
    expect(JSON.parse(admin.ok(['admin', 'trust', 'get', 'gh-stg', '-o', 'json']))).toMatchObject({ name: 'gh-stg', audience: AUDIENCE, claims: { sub: SUB, repository: 'acme/api' }, ttl: '10m' });
    expect(admin.ok(['admin', 'trust', 'list', '--service-account', 'deployer', '-o', 'yaml'])).toMatch(/^- name: gh-any\n/);
    expect(admin.ok(['admin', 'trust', 'delete', 'gh-any'])).toBe('trust/gh-any deleted\n');

    const snippet = admin.ok(['admin', 'trust', 'snippet', 'gh-stg', '--for', 'github-actions', '--login-server', 'runed.example.com:7863']);
    expect(snippet).toContain('  id-token: write\n');
    expect(snippet).toContain(`"$ACTIONS_ID_TOKEN_REQUEST_URL&audience=${encodeURIComponent(AUDIENCE)}"`);
    expect(snippet).toContain('RUNE_SERVER: runed.example.com:7863\n');
    expect(snippet).toContain('rune login ci --server "$RUNE_SERVER" --oidc-trust gh-stg --oidc-token-file "$RUNNER_TEMP/rune-oidc.jwt"\n');
    expect(admin.run(['admin', 'trust', 'snippet', 'gh-stg', '--for', 'jenkins']).stderr).toBe('error: --for takes github-actions, not "jenkins"\n');
  });

  it('a CI job logs in from a JWT file: the context holds a token of the service account that expires with the exchange', async () => {
    const ci = new Cli(); // a fresh runner: no config, no stored secret
    const jwt = await jobToken();
    writeFileSync(join(ci.home, 'oidc.jwt'), jwt + '\n');
    const out = await ok(ci, ['login', 'ci', '--server', server, '--oidc-trust', 'gh-stg', '--oidc-token-file', 'oidc.jwt']);
    expect(out).toMatch(new RegExp(`^Logged in to ${runed.url} as service account deployer through trust gh-stg; the token expires at \\S+Z; context "ci" is now current\\.\\n$`));
    const me = JSON.parse(ci.ok(['whoami', '-o', 'json']));
    expect(me).toMatchObject({ subject: { name: 'deployer', type: 'service' }, policies: ['deployer-cast'], context: 'ci' });
    const minted = JSON.parse(admin.ok(['admin', 'token', 'get', me.token.id, '-o', 'json']));
    expect(Date.parse(minted.expiresAt) - Date.parse(minted.createdAt)).toBe(10 * 60_000);
    const config = join(ci.home, '.rune/config.yaml');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readFileSync(config, 'utf8')).not.toContain(jwt);

    // The same JWT again is a replay, and the error names the check instead of suggesting a token file.
    const replay = await ci.runAsync(['login', 'ci', '--server', server, '--oidc-trust', 'gh-stg', '--oidc-token-file', 'oidc.jwt']);
    expect(replay.status).toBe(1);
    expect(replay.stderr).toBe(`error: OIDC exchange refused (replay): this token was already exchanged: each CI token is accepted once (trust gh-stg on ${runed.url})\n`);
  });

  it('--oidc-token-env reads the JWT from the environment; the flags are checked before anything is sent', async () => {
    const ci = new Cli();
    expect(await ok(ci, ['login', 'ci', '--server', server, '--oidc-trust', 'gh-stg', '--oidc-token-env', 'CI_JOB_JWT'], { CI_JOB_JWT: await jobToken() })).toMatch(/as service account deployer through trust gh-stg/);
    expect(JSON.parse(ci.ok(['whoami', '-o', 'json'])).subject.name).toBe('deployer');
    expect(ci.run(['login', 'ci', '--server', server, '--oidc-trust', 'gh-stg', '--oidc-token-env', 'UNSET_VAR']).stderr).toBe(
      'error: environment variable UNSET_VAR is not set or empty: it should hold the CI job\'s OIDC token\n',
    );
    expect(ci.run(['login', 'ci', '--server', server, '--oidc-token-file', 'x']).stderr).toBe('error: --oidc-token-file and --oidc-token-env go with --oidc-trust TRUST: the trust to exchange the token through\n');
  });

  it('the CLI bundle carries no JOSE code: verification happens in runed only', () => {
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist/rune/meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const inputs = Object.keys(meta.inputs);
    expect(inputs.some((i) => i.includes('cli/commands/trusts.js'))).toBe(true);
    expect(inputs.filter((i) => /node_modules\/jose\//.test(i))).toEqual([]);
  });
});
