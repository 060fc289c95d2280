import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApiError } from '../../api/errors.js';
import type { ContextEntry, ContextStore } from '../../config/contexts.js';
import { checkContextName, configPath } from '../../config/paths.js';
import { render, type Columns } from '../output.js';
import { formatOf, globals, session, UsageError } from '../runtime.js';
import type { Whoami } from '../../core/wire.js';

const whoamiColumns: Columns<Whoami & { context?: string; server: string }> = {
  headers: ['SUBJECT', 'TYPE', 'TOKEN', 'POLICIES', 'CONTEXT', 'SERVER'],
  row: (w) => [w.subject.name, w.subject.type, w.token.name, (w.token.policies ?? w.policies).join(','), w.context, w.server],
  wideHeaders: ['TOKEN-ID', 'EXPIRES'],
  wideRow: (w) => [w.token.id, w.token.expiresAt ?? 'never'],
};

/** conf and yaml load only for the commands that read or write contexts. */
async function contextStore(): Promise<ContextStore> {
  const { ContextStore } = await import('../../config/contexts.js');
  return new ContextStore();
}

interface LoginOptions {
  tokenFile?: string;
  token?: string;
  namespace: string;
  caFile?: string;
  production?: boolean;
  readOnly?: boolean;
  oidcTrust?: string;
  oidcTokenFile?: string;
  oidcTokenEnv?: string;
}

/** The CI job's OIDC token from --oidc-token-file or --oidc-token-env (never from the command line, where ps shows it). */
function readOidcToken(opts: LoginOptions): string {
  if (!opts.oidcTrust) throw new UsageError('--oidc-token-file and --oidc-token-env go with --oidc-trust TRUST: the trust to exchange the token through');
  if (opts.token !== undefined || opts.tokenFile !== undefined) throw new UsageError('--oidc-trust exchanges a CI token for a new one: give no --token or --token-file with it');
  if (!opts.oidcTokenFile === !opts.oidcTokenEnv) throw new UsageError('give the CI job\'s OIDC token with exactly one of --oidc-token-file FILE or --oidc-token-env VAR');
  let jwt: string | undefined;
  if (opts.oidcTokenFile) {
    const file = resolve(opts.oidcTokenFile);
    if (!existsSync(file)) throw new UsageError(`OIDC token file ${file} does not exist`);
    jwt = readFileSync(file, 'utf8').trim();
  } else {
    jwt = process.env[opts.oidcTokenEnv!]?.trim();
    if (!jwt) throw new UsageError(`environment variable ${opts.oidcTokenEnv} is not set or empty: it should hold the CI job's OIDC token`);
  }
  if (!jwt) throw new UsageError(`the OIDC token in ${opts.oidcTokenFile} is empty`);
  return jwt;
}

/** Exchanges the CI job's OIDC token and saves a context holding the minted token, which expires with the exchange. */
async function loginWithOidc(name: string, server: string, opts: LoginOptions): Promise<void> {
  const jwt = readOidcToken(opts);
  if (opts.caFile && !existsSync(opts.caFile)) throw new UsageError(`CA file ${opts.caFile} does not exist`);
  const { RuneClient } = await import('../../api/client.js');
  const client = new RuneClient({ server, ...(opts.caFile ? { caFile: resolve(opts.caFile) } : {}) });
  let exchanged;
  try {
    exchanged = await client.exchangeOidc({ trust: opts.oidcTrust!, jwt });
  } catch (e) {
    // The daemon names the failed check; "log in again with a token file" would be the wrong advice here.
    const refusedByRuned = e instanceof ApiError && (e.code === 'unauthenticated' || (e.code === 'unavailable' && e.status === 503));
    if (refusedByRuned) throw new UsageError(`${(e as ApiError).message} (trust ${opts.oidcTrust} on ${client.baseUrl})`);
    throw e;
  }
  const entry: ContextEntry = { server, namespace: opts.namespace, token: exchanged.secret };
  if (opts.caFile) entry['ca-file'] = resolve(opts.caFile);
  if (opts.production) entry.production = true;
  if (opts.readOnly) entry['read-only'] = true;
  const store = await contextStore();
  store.set(name, entry);
  store.use(name);
  process.stdout.write(
    `Logged in to ${client.baseUrl} as service account ${exchanged.serviceAccount} through trust ${exchanged.trust}; ` +
      `the token expires at ${exchanged.token.expiresAt ?? 'never'}; context "${name}" is now current.\n`,
  );
}

export function sessionCommands(program: Command): void {
  program
    .command('login')
    .description('save a context (--server + token) after checking the token with whoami, and make it current; in CI, exchange the job\'s OIDC token instead (--oidc-trust)')
    .argument('<name>', 'context name')
    .option('--token-file <file>', 'file holding the token (the context keeps the path)')
    .option('--token <token>', 'the token itself (kept in the config file, 0600)')
    .option('--namespace <ns>', 'default namespace for this context', 'default')
    .option('--ca-file <file>', 'CA certificate to trust for https servers')
    .option('--production', 'mark the context as production (shown red; deletes ask for the name)')
    .option('--read-only', 'refuse mutating commands in this context')
    .option('--oidc-trust <trust>', 'exchange a CI job\'s OIDC token through this trust for a short-lived token')
    .option('--oidc-token-file <file>', 'file holding the CI job\'s OIDC token (with --oidc-trust)')
    .option('--oidc-token-env <var>', 'environment variable holding the CI job\'s OIDC token (with --oidc-trust)')
    .addHelpText(
      'after',
      '\nExamples:\n  rune login admin --server localhost:7863 --token-file ~/.rune/token --namespace default\n  rune login ci --server runed.example.com:7863 --oidc-trust gh-api-stg --oidc-token-file "$RUNNER_TEMP/rune-oidc.jwt"\n',
    )
    .action(async (name: string, opts: LoginOptions, cmd: Command) => {
      checkContextName(name);
      const server = globals(cmd).server;
      if (!server) throw new UsageError('--server HOST:PORT is required: the runed to log in to, e.g. localhost:7863');
      if (opts.oidcTrust !== undefined || opts.oidcTokenFile !== undefined || opts.oidcTokenEnv !== undefined) return loginWithOidc(name, server, opts);
      if (!opts.tokenFile === !opts.token) throw new UsageError('give the token with exactly one of --token-file FILE or --token TOKEN (or, in CI, --oidc-trust with --oidc-token-file or --oidc-token-env)');
      let token = opts.token;
      const tokenFile = opts.tokenFile ? resolve(opts.tokenFile) : undefined;
      if (tokenFile) {
        if (!existsSync(tokenFile)) throw new UsageError(`token file ${tokenFile} does not exist`);
        token = readFileSync(tokenFile, 'utf8').trim();
      }
      if (opts.caFile && !existsSync(opts.caFile)) throw new UsageError(`CA file ${opts.caFile} does not exist`);
      const { RuneClient } = await import('../../api/client.js');
      const client = new RuneClient({ server, token: token!, ...(opts.caFile ? { caFile: resolve(opts.caFile) } : {}) });
      const me = await client.whoami();
      const entry: ContextEntry = { server, namespace: opts.namespace };
      if (tokenFile) entry['token-file'] = tokenFile;
      else entry.token = token!;
      if (opts.caFile) entry['ca-file'] = resolve(opts.caFile);
      if (opts.production) entry.production = true;
      if (opts.readOnly) entry['read-only'] = true;
      const store = await contextStore();
      store.set(name, entry);
      store.use(name);
      process.stdout.write(`Logged in to ${client.baseUrl} as ${me.subject.type} ${me.subject.name}; context "${name}" is now current.\n`);
    });

  program
    .command('logout')
    .description('forget the token of a context (default: the current one); the context keeps its server')
    .argument('[name]', 'context name')
    .action(async (name: string | undefined) => {
      const store = await contextStore();
      const which = name ?? store.current();
      if (!which) throw new UsageError('no current context: name the context to log out of');
      const { token: _t, 'token-file': _f, ...rest } = store.require(which);
      store.set(which, rest);
      process.stdout.write(`Logged out of context "${which}".\n`);
    });

  program
    .command('whoami')
    .description('show who the current context authenticates as')
    .action(async (_opts: unknown, cmd: Command) => {
      const s = await session(cmd);
      const me = await s.client.whoami();
      process.stdout.write(render({ ...me, ...(s.target.context ? { context: s.target.context } : {}), server: s.client.baseUrl }, formatOf(cmd), whoamiColumns));
    });

  const context = program.command('context').description('list and delete saved contexts');
  context
    .command('list')
    .description('list contexts; the current one is marked *')
    .action(async (_opts: unknown, cmd: Command) => {
      const store = await contextStore();
      const current = store.current();
      const items = Object.entries(store.contexts()).map(([name, c]) => ({
        name,
        current: name === current,
        server: c.server,
        namespace: c.namespace ?? 'default',
        auth: c['token-file'] ? `token-file ${c['token-file']}` : c.token ? 'token' : 'none',
        production: c.production === true,
        readOnly: c['read-only'] === true,
      }));
      process.stdout.write(
        render(items, formatOf(cmd), {
          headers: ['CURRENT', 'NAME', 'SERVER', 'NAMESPACE'],
          row: (c) => [c.current ? '*' : ' ', c.name, c.server, c.namespace],
          wideHeaders: ['AUTH', 'FLAGS'],
          wideRow: (c) => [c.auth, [c.production ? 'production' : '', c.readOnly ? 'read-only' : ''].filter(Boolean).join(',')],
        }),
      );
      if (items.length === 0 && formatOf(cmd) !== 'json' && formatOf(cmd) !== 'yaml') process.stderr.write(`No contexts in ${configPath()}: log in with rune login.\n`);
    });
  context
    .command('delete')
    .description('delete a saved context')
    .argument('<name>')
    .action(async (name: string) => {
      (await contextStore()).delete(name);
      process.stdout.write(`Context "${name}" deleted.\n`);
    });

  program
    .command('use-context')
    .description('make a saved context the current one')
    .argument('<name>')
    .action(async (name: string) => {
      (await contextStore()).use(name);
      process.stdout.write(`Switched to context "${name}".\n`);
    });
}
