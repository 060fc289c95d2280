import { PERMISSION_NAMES } from '../../core/serviceAccounts.js';
import type { Command } from 'commander';
import type { ServiceAccount, Token, User } from '../../core/wire.js';
import { age, render, type Columns } from '../output.js';
import { parseDuration } from '../../core/duration.js';
import { hygieneColumns, revokeCommand, staleCommand } from './tokenBulk.js';
import { checkTtl, formatOf, session, splitList, tokenIdOf, UsageError, withSecretSink, writable, type SecretSink } from '../runtime.js';

export const userColumns: Columns<User> = {
  headers: ['NAME', 'EMAIL', 'POLICIES', 'AGE'],
  row: (u) => [u.name, u.email, u.policies.join(','), age(u.createdAt)],
  wideHeaders: ['ID'],
  wideRow: (u) => [u.id],
};

const serviceColumns: Columns<ServiceAccount> = {
  headers: ['NAME', 'NAMESPACE', 'PERMISSIONS', 'POLICIES', 'AGE'],
  row: (s) => [s.name, s.namespace ?? '*', s.permissions.join(','), s.policies.join(','), age(s.createdAt)],
  wideHeaders: ['ID', 'DESCRIPTION'],
  wideRow: (s) => [s.id, s.description],
};

export function bootstrapCommand(admin: Command): void {
  admin
    .command('bootstrap')
    .description('mint the root token of a fresh runed (works once, from the daemon\'s host)')
    .option('--out-file <file>', 'write the token to this file (0600) instead of stdout')
    .option('--force', 'overwrite --out-file if it exists')
    .addHelpText('after', '\nExample:\n  rune admin bootstrap --out-file ~/.rune/token\n  rune admin bootstrap --server localhost:7900\n')
    .action(async (opts: { outFile?: string; force?: boolean }, cmd: Command) => {
      const { client } = await session(cmd, { needsToken: false });
      const { result, sink } = await withSecretSink(opts, () => client.bootstrap());
      finishSecret(cmd, opts, sink, result, result.secret, `root token ${result.token.id} created`);
    });
}

export function userCommands(admin: Command): void {
  const user = admin.command('user').description('manage users');
  user
    .command('create')
    .description('create a user, or update its email if it exists')
    .argument('<name>')
    .option('--email <email>')
    .addHelpText('after', '\nExample:\n  rune admin user create alice --email alice@example.com\n')
    .action(async (name: string, opts: { email?: string }, cmd: Command) => {
      const { client } = writable(await session(cmd));
      const u = await client.upsertUser({ name, ...(opts.email !== undefined ? { email: opts.email } : {}) });
      printOne(cmd, u, userColumns, `user/${u.name} saved`);
    });
  user
    .command('list')
    .description('list users')
    .option('--search <text>', 'only users whose name, email, description or id contains this (any case)')
    .option('--sort <field>', `${SUBJECT_SORT_HELP}`)
    .action(async (opts: ListOpts, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.listUsers(listQuery(opts)), formatOf(cmd), userColumns));
    });
  user
    .command('get')
    .description('show one user')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.getUser(name), formatOf(cmd), userColumns));
    });
  user
    .command('delete')
    .description('delete a user and revoke all of its tokens')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client } = writable(await session(cmd));
      const res = await client.deleteUser(name);
      printDone(cmd, res, `user/${name} deleted (${res.revokedTokens} token(s) revoked)`);
    });
}

export function serviceCommands(admin: Command): void {
  const service = admin.command('service').description('manage service accounts (non-human identities for CI and automation)');
  service
    .command('create')
    .description('create a service account, its policies and its first token, all at once')
    .argument('<name>')
    .option('--namespace <ns>', 'pin the granted permissions to this namespace (omit for cluster-wide)')
    .option('--permissions <list>', `one or more of ${PERMISSION_NAMES.join(', ')}, comma-separated`, 'cast')
    .option('--ttl <duration>', 'token lifetime, e.g. 720h or 90d (omit for no expiry)')
    .option('--description <text>', 'free-text description (shown in token list)')
    .option('--out-file <file>', 'write the token to this file (0600) instead of stdout')
    .option('--force', 'overwrite --out-file if it exists')
    .addHelpText(
      'after',
      '\nExamples:\n  rune admin service create ci-stg --namespace stg --permissions cast --ttl 90d \\\n    --description "GitHub Actions deploys to stg" --out-file ci-stg.token\n  rune admin service create dashboard --permissions read --ttl 720h --out-file dashboard.token\n',
    )
    .action(async (name: string, opts: { namespace?: string; permissions: string; ttl?: string; description?: string; outFile?: string; force?: boolean }, cmd: Command) => {
      const ttl = checkTtl(opts.ttl);
      const permissions = splitList(opts.permissions) ?? [];
      const unknown = permissions.filter((p) => !(PERMISSION_NAMES as string[]).includes(p));
      if (permissions.length === 0 || unknown.length > 0) throw new UsageError(`--permissions takes one or more of ${PERMISSION_NAMES.join(', ')}${unknown.length ? `, not ${unknown.join(', ')}` : ''}`);
      const { client } = writable(await session(cmd));
      const { result: res, sink } = await withSecretSink(opts, () =>
        client.createServiceAccount({
          name,
          permissions,
          ...(opts.namespace ? { namespace: opts.namespace } : {}),
          ...(ttl ? { ttl } : {}),
          ...(opts.description ? { description: opts.description } : {}),
        }),
      );
      for (const w of res.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
      finishSecret(cmd, opts, sink, res, res.secret, `serviceaccount/${name} created with ${res.serviceAccount.policies.join(', ')} and token ${res.token.id}`);
    });
  service
    .command('list')
    .description('list service accounts')
    .option('--search <text>', 'only service accounts whose name, namespace, description or id contains this (any case)')
    .option('--sort <field>', `${SUBJECT_SORT_HELP}`)
    .action(async (opts: ListOpts, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.listServiceAccounts(listQuery(opts)), formatOf(cmd), serviceColumns));
    });
  service
    .command('get')
    .description('show one service account')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.getServiceAccount(name), formatOf(cmd), serviceColumns));
    });
  service
    .command('delete')
    .description('delete a service account: revokes its tokens and removes its derived policies')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client } = writable(await session(cmd));
      const res = await client.deleteServiceAccount(name);
      const trusts = res.removedTrusts?.length ? `, trusts ${res.removedTrusts.join(', ')} removed` : '';
      printDone(cmd, res, `serviceaccount/${name} deleted (${res.revokedTokens} token(s) revoked${res.removedPolicies.length ? `, policies ${res.removedPolicies.join(', ')} removed` : ''}${trusts})`);
    });
}

interface ListOpts {
  search?: string;
  sort?: string;
}
const listQuery = (opts: ListOpts) => ({ ...(opts.search ? { search: opts.search } : {}), ...(opts.sort ? { sort: opts.sort } : {}) });
// The daemon checks the values (a 400 names the allowed ones); these lines only document them.
const TOKEN_SORT_HELP = 'created (default), name, subject, expires or lastUsed; a leading - reverses';
const SUBJECT_SORT_HELP = 'name (default) or created; a leading - reverses';

export const tokenColumns: Columns<Token> = {
  headers: ['ID', 'NAME', 'SUBJECT', 'TYPE', 'POLICIES', 'EXPIRES', 'STATUS'],
  row: (t) => [t.id, t.name, t.subjectName, t.subjectType, t.policies.join(','), t.expiresAt ? t.expiresAt.replace(/\.\d+Z$/, 'Z') : 'never', t.status],
  wideHeaders: ['LAST-USED', 'AGE', 'DESCRIPTION'],
  wideRow: (t) => [t.lastUsedAt ? `${age(t.lastUsedAt)} ago` : 'never', age(t.createdAt), t.description],
};

export function tokenCommands(admin: Command): void {
  const token = admin.command('token').description('manage bearer tokens');
  token
    .command('create')
    .description('mint a token; its secret is printed (or written to --out-file) once')
    .argument('[name]', 'token name')
    .option('--subject-name <name>', 'existing user or service account (default: yourself)')
    .option('--subject-id <id>', 'existing subject id (alternative to --subject-name)')
    .option('--policies <list>', 'comma-separated policies to limit the token to (attached to the subject if missing)')
    .option('--ttl <duration>', 'lifetime, e.g. 720h or 30d (omit for no expiry)')
    .option('--description <text>')
    .option('--out-file <file>', 'write the secret to this file (0600) instead of stdout')
    .option('--force', 'overwrite --out-file if it exists')
    .addHelpText('after', '\nExample:\n  rune admin token create alice-laptop --subject-name alice --policies readwrite --ttl 720h --out-file ./alice.token\n')
    .action(async (name: string | undefined, opts: { subjectName?: string; subjectId?: string; policies?: string; ttl?: string; description?: string; outFile?: string; force?: boolean }, cmd: Command) => {
      const ttl = checkTtl(opts.ttl);
      const { client } = writable(await session(cmd));
      const policies = splitList(opts.policies);
      const { result: res, sink } = await withSecretSink(opts, () =>
        client.createToken({
          ...(name ? { name } : {}),
          ...(opts.subjectName ? { subjectName: opts.subjectName } : {}),
          ...(opts.subjectId ? { subjectId: opts.subjectId } : {}),
          ...(policies ? { policies } : {}),
          ...(ttl ? { ttl } : {}),
          ...(opts.description ? { description: opts.description } : {}),
        }),
      );
      if (res.attached?.length) process.stderr.write(`attached ${res.attached.join(', ')} to ${res.token.subjectType} ${res.token.subjectName}\n`);
      finishSecret(cmd, opts, sink, res, res.secret, `token/${res.token.name} ${res.token.id} created for ${res.token.subjectType} ${res.token.subjectName}`);
    });
  token
    .command('list')
    .description('list tokens: yours, or everyone\'s for an administrator')
    .option('--subject <name>', 'only this subject\'s tokens')
    .option('--status <status>', 'active, expired, disabled or revoked')
    .option('--search <text>', 'only tokens whose name, subject, description or id contains this (any case)')
    .option('--sort <field>', `${TOKEN_SORT_HELP}`)
    .addHelpText('after', '\nExample:\n  rune admin token list --search laptop --sort -created\n')
    .action(async (opts: ListOpts & { subject?: string; status?: string }, cmd: Command) => {
      const items = await (await session(cmd)).client.listTokens({ ...(opts.subject ? { subject: opts.subject } : {}), ...(opts.status ? { status: opts.status } : {}), ...listQuery(opts) });
      process.stdout.write(render(items, formatOf(cmd), tokenColumns));
    });
  token
    .command('get')
    .description('show one token (never its secret)')
    .argument('<token-id>')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.getToken(id), formatOf(cmd), tokenColumns));
    });
  token
    .command('update')
    .description('change a token\'s description, ttl (owners may only shorten it) or enabled state')
    .argument('<token-id>')
    .option('--ttl <duration>', 'new lifetime counted from creation, or "never"')
    .option('--enable', 'enable the token')
    .option('--disable', 'disable the token (it fails authentication until enabled)')
    .option('--description <text>')
    .addHelpText('after', '\nExample:\n  rune admin token update tok_4f8Kq2mZ9xR1sT0vWb3Y --ttl 24h --description "rotated monthly"\n')
    .action(async (id: string, opts: { ttl?: string; enable?: boolean; disable?: boolean; description?: string }, cmd: Command) => {
      if (opts.enable && opts.disable) throw new UsageError('use --enable or --disable, not both');
      const body: { ttl?: string | null; enabled?: boolean; description?: string } = {};
      if (opts.ttl !== undefined) body.ttl = opts.ttl === 'never' ? null : checkTtl(opts.ttl)!;
      if (opts.enable) body.enabled = true;
      if (opts.disable) body.enabled = false;
      if (opts.description !== undefined) body.description = opts.description;
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give --ttl, --enable, --disable or --description');
      const { client } = writable(await session(cmd));
      printOne(cmd, await client.updateToken(id, body), tokenColumns, `token/${id} updated`);
    });
  revokeCommand(token, hygieneColumns((t) => t.policies.join(',')), (cmd, t, summary) => printOne(cmd, t, tokenColumns, summary));
  token
    .command('rotate')
    .description('issue a new secret for a token (same id, policies and expiry); the old secret keeps working for --grace')
    .argument('<token-id>')
    .option('--grace <duration>', 'how long the old secret keeps working; 0 cuts over at once', '1h')
    .option('--out-file <file>', 'write the new secret to this file (0600) instead of stdout')
    .option('--force', 'overwrite --out-file if it exists')
    .addHelpText(
      'after',
      '\nExamples:\n  rune admin token rotate tok_4f8Kq2mZ9xR1sT0vWb3Y --grace 1h --out-file ci.token\n' +
        '  rune admin audit --action old-secret --since 1h    # who still uses the old secret\n',
    )
    .action(async (id: string, opts: { grace: string; outFile?: string; force?: boolean }, cmd: Command) => {
      const grace = opts.grace.trim();
      if (grace !== '0' && parseDuration(grace) === undefined) throw new UsageError(`--grace "${opts.grace}" is not a duration: use e.g. 1h, 30m or 0 to cut over at once`);
      const { client, target } = writable(await session(cmd));
      const { result: res, sink } = await withSecretSink(opts, () => client.rotateToken(id, { grace }));
      const old = res.graceUntil ? `the old secret works until ${res.graceUntil} (see who still uses it: rune admin audit --action old-secret)` : 'the old secret no longer works';
      finishSecret(cmd, opts, sink, res, res.secret, `token/${res.token.name} ${res.token.id} rotated; ${old}`);
      // Rotating the very token this command ran with: its holder must switch too, or lose access when the grace ends.
      if (tokenIdOf(target.token) === res.token.id) {
        const who = process.env.RUNE_TOKEN ? 'RUNE_TOKEN holds' : target.context ? `context "${target.context}" uses` : 'this command ran with';
        const login = target.context && !process.env.RUNE_TOKEN ? `rune login ${target.context} --server ${target.server} --token-file ${opts.outFile ?? 'FILE'}` : 'set RUNE_TOKEN to the new secret';
        process.stderr.write(`note: ${who} this token: ${login} ${res.graceUntil ? `before ${res.graceUntil}` : 'now: the old secret no longer works'}\n`);
      }
    });
  token
    .command('expiring')
    .description('list the tokens that expire within --within; exits 3 when there are some, 0 when none (for cron and monitoring)')
    .option('--within <duration>', 'how far ahead to look', '7d')
    .option('--subject <name>', 'only this subject\'s tokens')
    .addHelpText('after', '\nExample:\n  rune admin token expiring --within 7d -o json || notify-ops\n')
    .action(async (opts: { within: string; subject?: string }, cmd: Command) => {
      const within = checkTtl(opts.within, '--within')!;
      const items = await (await session(cmd)).client.listTokens({ status: 'active', expiresWithin: within, sort: 'expires', ...(opts.subject ? { subject: opts.subject } : {}) });
      const format = formatOf(cmd);
      process.stdout.write(render(items, format, tokenColumns));
      if (items.length === 0 && (format === 'table' || format === 'wide')) process.stderr.write(`no active token expires within ${within}\n`);
      process.exitCode = items.length > 0 ? 3 : 0;
    });
  staleCommand(token);
}

/**
 * The answer of a call that minted a secret: -o json/yaml without --out-file prints the whole answer
 * (secret included, since it was asked for); otherwise the secret goes to its sink.
 */
function finishSecret(cmd: Command, opts: { outFile?: string }, sink: SecretSink, result: unknown, secret: string, summary: string): void {
  const format = formatOf(cmd);
  if ((format === 'json' || format === 'yaml') && !opts.outFile) process.stdout.write(render(result, format, { headers: [], row: () => [] }));
  else sink.deliver(secret, summary);
}

/** A mutation's result: the object for -o json/yaml, else one line saying what happened. */
export function printOne<T>(cmd: Command, item: T, columns: Columns<T>, summary: string): void {
  const format = formatOf(cmd);
  process.stdout.write(format === 'json' || format === 'yaml' ? render(item, format, columns) : summary + '\n');
}

export function printDone(cmd: Command, result: unknown, summary: string): void {
  printOne(cmd, result, { headers: [], row: () => [] }, summary);
}
