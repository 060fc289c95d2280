import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cli } from '../helpers/rune.js';
import { Runed, ROOT } from '../helpers/runed.js';

/** A fresh runed, bootstrapped with the CLI, and the context "admin" logged in with its root token. */
async function bootstrappedAndLoggedIn(cli: Cli): Promise<{ runed: Runed; server: string }> {
  const runed = await Runed.start();
  const server = runed.url.replace('http://', '');
  cli.ok(['admin', 'bootstrap', '--server', server, '--out-file', join(cli.home, '.rune/token')]);
  cli.ok(['login', 'admin', '--server', server, '--token-file', join(cli.home, '.rune/token')]);
  return { runed, server };
}

/** Every command of the rune admin reference, plus the §7 additions, against a real runed. */
describe('rune admin reference', () => {
  let runed: Runed;
  let server: string;
  const cli = new Cli();

  beforeAll(async () => {
    ({ runed, server } = await bootstrappedAndLoggedIn(cli));
  });
  afterAll(async () => runed.cleanup());

  it('user create (create or update), list, get, delete', () => {
    cli.ok(['admin', 'user', 'create', 'alice', '--email', 'alice@example.com']);
    cli.ok(['admin', 'user', 'create', 'alice', '--email', 'alice@corp.example']);
    expect(JSON.parse(cli.ok(['admin', 'user', 'get', 'alice', '-o', 'json'])).email).toBe('alice@corp.example');
    cli.ok(['admin', 'user', 'create', 'temp']);
    const list = JSON.parse(cli.ok(['admin', 'user', 'list', '-o', 'json']));
    expect(Array.isArray(list)).toBe(true);
    expect(list.map((u: { name: string }) => u.name)).toEqual(['alice', 'root', 'temp']);
    expect(cli.ok(['admin', 'user', 'delete', 'temp'])).toBe('user/temp deleted (0 token(s) revoked)\n');
    expect(cli.ok(['admin', 'user', 'list', '-o', 'yaml'])).toMatch(/^- id: usr_/);
  });

  it('service create ci-stg --namespace stg --permissions cast --ttl 90d produces ci-stg-cast pinned to stg', () => {
    const out = cli.ok(['admin', 'service', 'create', 'ci-stg', '--namespace', 'stg', '--permissions', 'cast', '--ttl', '90d', '--description', 'GitHub Actions deploys to stg', '--out-file', 'ci-stg.token']);
    expect(out).toMatch(/^serviceaccount\/ci-stg created with ci-stg-cast and token tok_\w+; secret written to ci-stg\.token \(mode 0600\)\n$/);
    expect(statSync(join(cli.home, 'ci-stg.token')).mode & 0o777).toBe(0o600);
    const policy = JSON.parse(cli.ok(['admin', 'policy', 'get', 'ci-stg-cast', '-o', 'json']));
    expect(policy.rules.map((r: { resource: string; namespace: string }) => `${r.resource}@${r.namespace}`)).toEqual([
      'services@stg', 'instances@stg', 'configmaps@stg', 'secrets@stg', 'namespaces@*', 'logs@stg',
    ]);
    const tokens = JSON.parse(cli.ok(['admin', 'token', 'list', '--subject', 'ci-stg', '-o', 'json']));
    expect(tokens).toEqual([expect.objectContaining({ subjectType: 'service', description: 'GitHub Actions deploys to stg' })]);
    expect(Date.parse(tokens[0].expiresAt) - Date.parse(tokens[0].createdAt)).toBe(90 * 86_400_000);
  });

  it('service create dashboard --permissions read --ttl 720h; service list, get, delete', () => {
    cli.ok(['admin', 'service', 'create', 'dashboard', '--permissions', 'read', '--ttl', '720h', '--out-file', 'dashboard.token']);
    const list = cli.ok(['admin', 'service', 'list']);
    expect(list).toMatch(/^NAME\s+NAMESPACE\s+PERMISSIONS\s+POLICIES\s+AGE\n/);
    expect(list).toMatch(/\ndashboard\s+\*\s+read\s+readonly\s+/);
    cli.ok(['admin', 'service', 'create', 'tmp-bot', '--namespace', 'dev']);
    expect(cli.ok(['admin', 'service', 'delete', 'tmp-bot'])).toBe('serviceaccount/tmp-bot deleted (1 token(s) revoked, policies tmp-bot-cast removed)\n');
  });

  it('policy create -f, get, list, attach, detach, apply -f, delete', () => {
    writeFileSync(join(cli.home, 'policy.yaml'), "name: editor-prod\ndescription: Edit services in 'prod' only\nrules:\n- resource: service\n  verbs: [get, list, watch, create, update, delete, scale, exec]\n  namespace: prod\n");
    const created = cli.run(['admin', 'policy', 'create', '-f', 'policy.yaml']);
    expect(created.stdout).toBe('policy/editor-prod created\n');
    expect(created.stderr).toBe('warning: policy.yaml:4:3: unknown resource "service" (did you mean "services"?)\n');
    expect(cli.ok(['admin', 'policy', 'get', 'readwrite'])).toMatch(/^Name:\s+readwrite\n.*\nBuilt-in:\s+yes \(read-only\)\n/s);
    expect(cli.ok(['admin', 'policy', 'list'])).toMatch(/\neditor-prod\s+no\s+1\s+Edit services in 'prod' only\n/);
    cli.ok(['admin', 'policy', 'attach', 'editor-prod', '--to-user', 'alice']);
    expect(cli.ok(['admin', 'policy', 'get', 'editor-prod'])).toMatch(/Attached to:\s+user alice\n/);
    cli.ok(['admin', 'policy', 'attach', 'cast', '--to-service', 'dashboard']);
    cli.ok(['admin', 'policy', 'detach', 'cast', '--from-service', 'dashboard']);
    writeFileSync(join(cli.home, 'policy.yaml'), "name: editor-prod\ndescription: now services\nrules:\n- resource: services\n  verbs: [get]\n  namespace: prod\n");
    expect(cli.ok(['admin', 'policy', 'apply', '-f', 'policy.yaml'])).toBe('policy/editor-prod configured\n');
    writeFileSync(join(cli.home, 'other.yaml'), 'name: obsolete-policy\nrules: []\n');
    expect(cli.ok(['admin', 'policy', 'apply', '-f', 'other.yaml'])).toBe('policy/obsolete-policy created\n');
    expect(cli.ok(['admin', 'policy', 'delete', 'obsolete-policy'])).toBe('policy/obsolete-policy deleted\n');
    expect(cli.ok(['admin', 'policy', 'delete', 'editor-prod'])).toBe('policy/editor-prod deleted (detached from user alice)\n');
  });

  it('policy create from stdin with -f -', () => {
    expect(cli.ok(['admin', 'policy', 'create', '-f', '-'], { input: 'name: from-stdin\nrules:\n  - resource: logs\n    verbs: [get]\n    namespace: "*"\n' })).toBe('policy/from-stdin created\n');
  });

  it('policy edit opens $EDITOR, re-opens with the errors on invalid YAML, then saves', () => {
    cli.ok(['admin', 'policy', 'create', '-f', '-'], { input: 'name: editable\nrules:\n  - resource: logs\n    verbs: [get]\n    namespace: "*"\n' });
    const script = join(cli.home, 'fake-editor.mjs');
    // First save: a typo'd field. Second: a valid change, after checking the error is shown on top.
    writeFileSync(script, `#!/usr/bin/env node
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const file = process.argv[2];
const text = readFileSync(file, 'utf8');
writeFileSync(process.env.EDITOR_LOG, text + '\\n=====\\n', { flag: 'a' });
if (!existsSync(process.env.EDITOR_LOG + '.first')) {
  writeFileSync(process.env.EDITOR_LOG + '.first', '');
  writeFileSync(file, text.replace('verbs: [', 'verb: ['));
} else {
  writeFileSync(file, text.replace('verb: [', 'verbs: [').replace('[get]', '[get, list]'));
}
`);
    chmodSync(script, 0o755);
    const log = join(cli.home, 'editor.log');
    const out = cli.ok(['admin', 'policy', 'edit', 'editable'], { env: { EDITOR: script, EDITOR_LOG: log } });
    expect(out).toBe('policy/editable edited\n');
    const rounds = readFileSync(log, 'utf8').split('\n=====\n');
    expect(rounds[0]).toMatch(/^# Edit policy "editable"/);
    expect(rounds[1]).toMatch(/^# The policy was not saved:\n# error: line 8, column 5: unknown field "verb" \(did you mean "verbs"\?\)\n/);
    // The line numbers in the header point at the file as the editor shows it.
    expect(rounds[1]!.split('\n')[7]).toMatch(/^ {4}verb: \[/);
    expect(JSON.parse(cli.ok(['admin', 'policy', 'get', 'editable', '-o', 'json'])).rules[0].verbs).toEqual(['get', 'list']);
  });

  it('policy edit opens the text the policy was written as and keeps its comments, taking out only its own notes', () => {
    cli.ok(['admin', 'policy', 'create', '-f', '-'], { input: '# Owned by the logs team.\nname: commented\nrules:\n  # read-only on purpose\n  - resource: logs\n    verbs: [get]   # see ticket 42\n    namespace: "*"\n' });
    const script = join(cli.home, 'comment-editor.mjs');
    writeFileSync(script, `#!/usr/bin/env node
import { readFileSync, writeFileSync } from 'node:fs';
const file = process.argv[2];
const text = readFileSync(file, 'utf8');
writeFileSync(process.env.EDITOR_LOG, text);
writeFileSync(file, text.replace('verbs: [get]', 'verbs: [get, list]'));
`);
    chmodSync(script, 0o755);
    const log = join(cli.home, 'comment-editor.log');
    expect(cli.ok(['admin', 'policy', 'edit', 'commented'], { env: { EDITOR: script, EDITOR_LOG: log } })).toBe('policy/commented edited\n');
    const shown = readFileSync(log, 'utf8');
    expect(shown).toMatch(/^# Edit policy "commented"\. These notes are removed on save/);
    expect(shown).toContain('# Owned by the logs team.\nname: commented\nrules:\n  # read-only on purpose\n');
    const saved = JSON.parse(cli.ok(['admin', 'policy', 'get', 'commented', '-o', 'json']));
    expect(saved.rules[0].verbs).toEqual(['get', 'list']);
    expect(saved.source).toBe('# Owned by the logs team.\nname: commented\nrules:\n  # read-only on purpose\n  - resource: logs\n    verbs: [get, list]   # see ticket 42\n    namespace: "*"\n');
  });

  it('policy edit with no change cancels; a built-in cannot be edited', () => {
    expect(cli.ok(['admin', 'policy', 'edit', 'editable'], { env: { EDITOR: 'true' } })).toBe('Edit cancelled, no changes made.\n');
    const builtin = cli.run(['admin', 'policy', 'edit', 'readonly'], { env: { EDITOR: 'true' } });
    expect(builtin.status).toBe(1);
    expect(builtin.stderr).toMatch(/^error: policy "readonly" is built in and cannot be edited: copy it/);
  });

  it('token create, list, get, update (--ttl, --disable/--enable, --description), revoke', () => {
    const secret = cli.ok(['admin', 'token', 'create', 'alice-laptop', '--subject-name', 'alice', '--policies', 'readonly', '--ttl', '720h']).trim();
    expect(secret).toMatch(/^rune_tok_\w+$/);
    const id = secret.split('_').slice(1, 3).join('_');
    expect(cli.ok(['admin', 'token', 'get', id])).toMatch(new RegExp(`\\n${id}\\s+alice-laptop\\s+alice\\s+user\\s+readonly\\s+\\S+\\s+active\\n`));
    expect(cli.ok(['admin', 'token', 'update', id, '--ttl', '24h', '--description', 'short'])).toBe(`token/${id} updated\n`);
    expect(cli.ok(['admin', 'token', 'update', id, '--disable'])).toBe(`token/${id} updated\n`);
    expect(JSON.parse(cli.ok(['admin', 'token', 'get', id, '-o', 'json']))).toMatchObject({ status: 'disabled', description: 'short' });
    cli.ok(['admin', 'token', 'update', id, '--enable']);
    expect(cli.ok(['admin', 'token', 'list', '--status', 'active', '-o', 'wide'])).toMatch(/LAST-USED\s+AGE\s+DESCRIPTION\n/);
    expect(cli.ok(['admin', 'token', 'revoke', id])).toBe(`token/${id} revoked\n`);
    expect(JSON.parse(cli.ok(['admin', 'token', 'get', id, '-o', 'json'])).status).toBe('revoked');
  });

  it('a secret without --out-file goes alone to stdout, the reminder to stderr; -o json gives the whole answer', () => {
    const r = cli.run(['admin', 'token', 'create', 'piped']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^rune_tok_\w+\n$/);
    expect(r.stderr).toMatch(/The secret is shown once: store it like a password/);
    const json = JSON.parse(cli.ok(['admin', 'token', 'create', 'as-json', '-o', 'json']));
    expect(json.secret).toMatch(/^rune_tok_/);
    expect(json.token.name).toBe('as-json');
  });

  it('--out-file refuses to overwrite unless --force, and nothing is minted when it refuses', () => {
    writeFileSync(join(cli.home, 'exists.token'), 'keep me\n');
    const before = JSON.parse(cli.ok(['admin', 'token', 'list', '-o', 'json'])).length;
    const refused = cli.run(['admin', 'token', 'create', 'x', '--out-file', 'exists.token']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('error: exists.token already exists: pass --force to overwrite it\n');
    expect(readFileSync(join(cli.home, 'exists.token'), 'utf8')).toBe('keep me\n');
    expect(JSON.parse(cli.ok(['admin', 'token', 'list', '-o', 'json'])).length).toBe(before);
    cli.ok(['admin', 'token', 'create', 'x', '--out-file', 'exists.token', '--force']);
    expect(readFileSync(join(cli.home, 'exists.token'), 'utf8')).toMatch(/^rune_tok_/);
    expect(statSync(join(cli.home, 'exists.token')).mode & 0o777).toBe(0o600);
  });

  it('registry add (--password-file, --password-file -, --password-stdin, ecr), list, get, replace, remove', () => {
    writeFileSync(join(cli.home, 'ghcr.token'), 'ghp_registry_password\n');
    expect(cli.ok(['admin', 'registry', 'add', '--name', 'ghcr-private', '--server', 'ghcr.io', '--username', 'my-bot', '--password-file', './ghcr.token'])).toBe('registry/ghcr-private added\n');
    cli.ok(['admin', 'registry', 'add', '--name', 'from-dash', '--server', 'r.example.com', '--username', 'u', '--password-file', '-'], { input: 'pw1\n' });
    cli.ok(['admin', 'registry', 'add', '--name', 'from-stdin', '--server', 'r2.example.com', '--username', 'u', '--password-stdin'], { input: 'pw2' });
    cli.ok(['admin', 'registry', 'add', '--name', 'ecr', '--type', 'ecr', '--server', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', '--region', 'eu-west-1']);
    const list = cli.ok(['admin', 'registry', 'list']);
    expect(list).toMatch(/^NAME\s+SERVER\s+TYPE\s+USERNAME\s+UPDATED\n/);
    expect(list).toMatch(/\nghcr-private\s+ghcr\.io\s+docker\s+my-bot\s+/);
    expect(list).not.toContain('ghp_registry_password');
    expect(JSON.stringify(JSON.parse(cli.ok(['admin', 'registry', 'list', '-o', 'json'])))).not.toContain('pw1');
    expect(cli.ok(['admin', 'registry', 'replace', 'ghcr-private', '--server', 'ghcr.io', '--username', 'new-bot'])).toBe('registry/ghcr-private replaced\n');
    expect(JSON.parse(cli.ok(['admin', 'registry', 'get', 'ghcr-private', '-o', 'json']))).toMatchObject({ username: 'new-bot', hasPassword: true });
    expect(cli.ok(['admin', 'registry', 'remove', 'ghcr-private'])).toBe('registry/ghcr-private removed\n');
  });

  it('can-i with --explain, and audit', () => {
    expect(cli.ok(['admin', 'can-i', 'list', 'users'])).toBe('yes\n');
    const no = cli.run(['admin', 'can-i', 'create', 'services', '-n', 'prod', '--as', 'ci-stg', '--explain']);
    expect(no.status).toBe(1);
    expect(no.stdout).toMatch(/^no\ndenied: no rule in ci-stg-cast allows create services in namespace prod; nearest is ci-stg-cast rule 1 .*pinned to namespace "stg", not "prod"\n$/);
    const audit = cli.ok(['admin', 'audit', '--action', 'create', '--limit', '3']);
    expect(audit.split('\n')[0]).toMatch(/^TIME\s+ACTOR\s+ACTION\s+RESOURCE\s+REF\s+OUTCOME\s+MESSAGE$/);
    expect(audit.trim().split('\n')).toHaveLength(4);
    expect(JSON.parse(cli.ok(['admin', 'audit', '--outcome', 'denied', '-o', 'json'])).every((e: { outcome: string }) => e.outcome === 'denied')).toBe(true);
  });

  it('context delete, logout', () => {
    cli.ok(['login', 'spare', '--server', server, '--token-file', join(cli.home, '.rune/token')]);
    cli.ok(['use-context', 'admin']);
    expect(cli.ok(['context', 'delete', 'spare'])).toBe('Context "spare" deleted.\n');
    expect(cli.ok(['context', 'list', '-o', 'json']).includes('spare')).toBe(false);
    cli.ok(['login', 'gone', '--server', server, '--token-file', join(cli.home, '.rune/token')]);
    expect(cli.ok(['logout'])).toBe('Logged out of context "gone".\n');
    expect(cli.run(['whoami']).stderr).toMatch(/^error: context "gone" has no token for .*: log in with "rune login gone/);
    cli.ok(['use-context', 'admin']);
  });

  it('completion scripts for bash and zsh name the commands and flags', () => {
    const bash = cli.ok(['completion', 'bash']);
    expect(bash).toContain('complete -o default -F _rune_complete rune');
    expect(bash).toContain('"admin token") echo "create list get update revoke rotate expiring stale"');
    expect(bash).toMatch(/"admin service create"\) echo "[^"]*--namespace[^"]*--permissions/);
    expect(cli.ok(['completion', 'zsh'])).toMatch(/^# rune completion for zsh[\s\S]*bashcompinit/);
    expect(cli.run(['completion', 'fish']).stderr).toBe('error: completion is available for bash and zsh, not "fish"\n');
  });

  it('every command has --help with an example', () => {
    const leaves = [
      ['login'], ['logout'], ['whoami'], ['context', 'list'], ['context', 'delete'], ['use-context'], ['ui'], ['completion'],
      ...['bootstrap', 'can-i', 'audit'].map((c) => ['admin', c]),
      ...['create', 'list', 'get', 'delete'].map((c) => ['admin', 'user', c]),
      ...['create', 'list', 'get', 'delete'].map((c) => ['admin', 'service', c]),
      ...['create', 'apply', 'get', 'list', 'attach', 'detach', 'delete', 'edit'].map((c) => ['admin', 'policy', c]),
      ...['create', 'list', 'get', 'update', 'revoke', 'stale'].map((c) => ['admin', 'token', c]),
      ...['add', 'replace', 'list', 'get', 'remove'].map((c) => ['admin', 'registry', c]),
    ];
    for (const args of leaves) {
      const help = cli.ok([...args, '--help']);
      expect(help).toMatch(new RegExp(`^Usage: rune ${args.join(' ')}`));
      expect(help, args.join(' ')).toMatch(/\nExamples?:\n {2}(\S+=\S+ )?rune /);
      expect(help).toContain('--context <name>');
    }
    expect(cli.ok(['admin', 'service', 'create', '--help'])).toContain('rune admin service create ci-stg --namespace stg --permissions cast --ttl 90d');
  });
});

describe('bad input: one clear line on stderr and a non-zero exit', () => {
  let runed: Runed;
  let server: string;
  const cli = new Cli();

  beforeAll(async () => {
    ({ runed, server } = await bootstrappedAndLoggedIn(cli));
  });
  afterAll(async () => runed.cleanup());

  it.each([
    [['admin', 'service', 'create', 'x', '--permissions', 'deploy'], '--permissions takes one or more of cast, read, admin, not deploy'],
    [['admin', 'service', 'create', 'x', '--ttl', '90days'], '--ttl "90days" is not a duration: use e.g. 720h, 90d or 1h30m'],
    [['admin', 'token', 'create', 'x', '--ttl', '0h'], '--ttl must be greater than zero'],
    [['admin', 'token', 'create', 'x', '--ttl', '100000000d'], '--ttl "100000000d" is longer than 36500d (100 years)'],
    [['admin', 'token', 'create', 'x', '--subject-name', 'ghost'], 'subject "ghost" not found: create the user first'],
    [['admin', 'token', 'create', 'x', '--policies', 'nope'], 'policy "nope" does not exist'],
    [['admin', 'token', 'update', 'tok_x'], 'nothing to change: give --ttl, --enable, --disable or --description'],
    [['admin', 'token', 'update', 'tok_x', '--enable', '--disable'], 'use --enable or --disable, not both'],
    [['admin', 'policy', 'create', '-f', 'missing.yaml'], 'cannot read missing.yaml: ENOENT'],
    [['admin', 'policy', 'attach', 'readonly'], 'give exactly one of --to-user NAME or --to-service NAME'],
    [['admin', 'registry', 'add', '--name', 'r', '--server', 'x.io', '--username', 'u', '--password-file', 'missing'], 'cannot read the password from missing: ENOENT'],
    [['admin', 'registry', 'add', '--name', 'r', '--server', 'x.io', '--username', 'u'], 'a docker registry needs --password-file FILE or --password-stdin'],
    [['admin', 'user', 'create', 'Bad_Name'], 'name "Bad_Name" is invalid'],
    [['--context', 'nowhere', 'whoami'], 'no context named "nowhere" (known: admin)'],
    [['use-context', 'nowhere'], 'no context named "nowhere" (known: admin)'],
    [['admin', 'user', 'list', '-o', 'xml'], "option '-o, --output <format>' argument 'xml' is invalid"],
    [['admin', 'user', 'frobnicate'], "unknown command 'frobnicate'"],
    [['login', 'x', '--token', 't'], '--server HOST:PORT is required'],
    [['login', 'x', '--server', 'localhost:1'], 'give the token with exactly one of --token-file FILE or --token TOKEN'],
    [['login', 'x', '--server', 'localhost:1', '--token-file', 'missing.token'], 'does not exist'],
  ])('rune %j', (args, message) => {
    const r = cli.run(args as string[]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
  });

  it('a policy file with an error names file:line:column before anything is sent', () => {
    writeFileSync(join(cli.home, 'bad.yaml'), 'name: bad\nrules:\n  - resource: services\n    verbz: [get]\n');
    const r = cli.run(['admin', 'policy', 'create', '-f', 'bad.yaml']);
    expect(r.stderr).toBe('error: bad.yaml:4:5: unknown field "verbz" (did you mean "verbs"?) (and 1 more)\n');
  });

  it('an unreachable daemon says how to start it', () => {
    const r = cli.run(['whoami'], { env: { RUNE_SERVER: '127.0.0.1:9', RUNE_TOKEN: 'rune_x' } });
    expect(r.stderr).toBe('error: cannot reach runed at http://127.0.0.1:9 (ECONNREFUSED): start it on that host with "runed" (or "npm start"), or choose another with --server or --context\n');
  });

  it('login with a bad token says so and saves nothing', () => {
    const r = cli.run(['login', 'bad', '--server', server, '--token', 'rune_tok_nope']);
    expect(r.stderr).toMatch(/^error: invalid or expired token/);
    expect(cli.ok(['context', 'list'])).not.toContain('bad');
  });

  it('a read-only context refuses mutating commands before sending them', () => {
    cli.ok(['login', 'ro', '--server', server, '--token-file', join(cli.home, '.rune/token'), '--read-only']);
    const r = cli.run(['admin', 'user', 'create', 'someone']);
    expect(r.stderr).toBe('error: context "ro" is read-only: this command changes things\n');
    expect(cli.ok(['admin', 'user', 'list'])).not.toContain('someone');
    cli.ok(['use-context', 'admin']);
  });
});

describe('start-up cost', () => {
  /** The bundle's chunks that carry code from these packages (from esbuild's metafile). */
  const chunksWith = (pattern: RegExp): string[] => {
    const meta = JSON.parse(readFileSync(join(ROOT, 'dist/rune/meta.json'), 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
    return Object.entries(meta.outputs)
      .filter(([file, o]) => file.endsWith('.js') && Object.keys(o.inputs).some((i) => pattern.test(i)))
      .map(([file]) => join(ROOT, file));
  };

  it('non-interactive commands never load Ink or React', () => {
    const cli = new Cli();
    const trace = join(cli.home, 'imports.txt');
    for (const args of [['--version'], ['admin', 'token', 'list'], ['whoami'], ['context', 'list'], ['completion', 'bash']]) {
      cli.run(args, { env: { NODE_OPTIONS: `--import ${join(ROOT, 'test/helpers/trace-imports.mjs')}`, TRACE_IMPORTS_FILE: trace, RUNE_SERVER: '127.0.0.1:9', RUNE_TOKEN: 'x' } });
    }
    const loaded = new Set(readFileSync(trace, 'utf8').split('\n').map((u) => u.replace('file://', '')));
    const uiChunks = chunksWith(/node_modules\/(ink|react|react-reconciler|ink-text-input)\//);
    const clientChunks = chunksWith(/api\/client\.js$/);
    expect(uiChunks.length).toBeGreaterThan(0);
    expect(clientChunks.some((c) => loaded.has(c))).toBe(true); // the trace does see lazily loaded chunks
    expect(uiChunks.filter((c) => loaded.has(c))).toEqual([]);
    expect([...loaded].filter((u) => /node_modules\/(ink|react)\//.test(u))).toEqual([]);
  });
});
