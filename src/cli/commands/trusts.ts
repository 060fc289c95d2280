import type { Command } from 'commander';
import { githubActionsSnippet, SNIPPET_TARGETS } from '../../core/trusts.js';
import type { Trust } from '../../core/wire.js';
import { age, render, type Columns } from '../output.js';
import { checkTtl, formatOf, session, UsageError, writable } from '../runtime.js';
import { printOne } from './identities.js';

const claimsText = (t: Trust) => Object.entries(t.claims).map(([k, v]) => `${k}=${v}`).join(',');

const trustColumns: Columns<Trust> = {
  headers: ['NAME', 'SERVICE-ACCOUNT', 'ISSUER', 'AUDIENCE', 'CLAIMS', 'TTL'],
  row: (t) => [t.name, t.serviceAccount, t.issuer, t.audience, claimsText(t), t.ttl],
  wideHeaders: ['ALLOW-GLOB', 'AGE', 'DESCRIPTION'],
  wideRow: (t) => [t.allowGlob ? 'yes' : 'no', age(t.createdAt), t.description],
};

/** `--claim KEY=VALUE`, repeatable: the value may itself hold "=" (a ref never does, a workflow_ref may). */
function collectClaim(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1 || eq === value.length - 1) throw new UsageError(`--claim takes KEY=VALUE, e.g. --claim repository=acme/api, not "${value}"`);
  const key = value.slice(0, eq);
  if (key in previous) throw new UsageError(`--claim ${key} is given twice: a trust binds one exact value per claim`);
  return { ...previous, [key]: value.slice(eq + 1) };
}

function warn(cmd: Command, trust: Trust): void {
  const format = formatOf(cmd);
  if (format === 'json' || format === 'yaml') return;
  for (const w of trust.warnings ?? []) process.stderr.write(`warning: trust/${trust.name}: ${w}\n`);
}

export function trustCommands(admin: Command): void {
  const trust = admin.command('trust').description('manage OIDC trusts: CI jobs exchange their ID token for a short-lived service-account token (no stored secret)');
  trust
    .command('create')
    .description('bind an OIDC issuer, an exact audience and exact claim values to a service account')
    .argument('<name>')
    .requiredOption('--issuer <url>', 'the OIDC issuer (https://; plain http:// only on loopback)')
    .requiredOption('--audience <aud>', 'the exact audience the CI job requests its token for')
    .requiredOption('--claim <key=value>', 'a claim and its exact value (repeat: sub, repository, ref, environment, workflow_ref, …)', collectClaim)
    .requiredOption('--service-account <name>', 'the service account whose tokens the trust mints')
    .option('--ttl <duration>', 'lifetime of each minted token (default 15m; at most runed\'s auth.oidcMaxTtl)')
    .option('--allow-glob', 'accept * and ? patterns in claim values (the linter warns about each)')
    .option('--description <text>', 'free-text description')
    .addHelpText(
      'after',
      '\nExample:\n  rune admin trust create gh-api-stg --issuer https://token.actions.githubusercontent.com \\\n    --audience https://runed.example.com --claim repository=acme/api \\\n    --claim sub=repo:acme/api:environment:stg --service-account ci-stg --ttl 15m\n',
    )
    .action(async (name: string, opts: { issuer: string; audience: string; claim: Record<string, string>; serviceAccount: string; ttl?: string; allowGlob?: boolean; description?: string }, cmd: Command) => {
      const ttl = checkTtl(opts.ttl);
      const { client } = writable(await session(cmd));
      const created = await client.createTrust({
        name,
        issuer: opts.issuer,
        audience: opts.audience,
        claims: opts.claim,
        serviceAccount: opts.serviceAccount,
        ...(ttl ? { ttl } : {}),
        ...(opts.allowGlob ? { allowGlob: true } : {}),
        ...(opts.description ? { description: opts.description } : {}),
      });
      warn(cmd, created);
      printOne(cmd, created, trustColumns, `trust/${name} created for serviceaccount/${created.serviceAccount} (tokens live ${created.ttl}); next: rune admin trust snippet ${name} --for github-actions`);
    });
  trust
    .command('list')
    .description('list trusts')
    .option('--service-account <name>', 'only the trusts of this service account')
    .action(async (opts: { serviceAccount?: string }, cmd: Command) => {
      const trusts = await (await session(cmd)).client.listTrusts(opts.serviceAccount ? { serviceAccount: opts.serviceAccount } : {});
      process.stdout.write(render(trusts, formatOf(cmd), trustColumns));
      for (const t of trusts) warn(cmd, t);
    });
  trust
    .command('get')
    .description('show one trust, with what the linter finds')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const t = await (await session(cmd)).client.getTrust(name);
      process.stdout.write(render(t, formatOf(cmd), trustColumns));
      warn(cmd, t);
    });
  trust
    .command('delete')
    .description('delete a trust: no new exchanges; tokens already minted live out their short TTL')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client } = writable(await session(cmd));
      const t = await client.deleteTrust(name);
      printOne(cmd, t, trustColumns, `trust/${name} deleted`);
    });
  trust
    .command('snippet')
    .description('print the CI step that requests the job\'s ID token with the trust\'s audience and logs in')
    .argument('<name>')
    .requiredOption('--for <platform>', `the CI platform: ${SNIPPET_TARGETS.join(', ')}`)
    .option('--login-server <host:port>', 'the runed address as the CI runner reaches it (default: this context\'s server)')
    .addHelpText('after', '\nExample:\n  rune admin trust snippet gh-api-stg --for github-actions --login-server runed.example.com:7863\n')
    .action(async (name: string, opts: { for: string; loginServer?: string }, cmd: Command) => {
      if (!(SNIPPET_TARGETS as readonly string[]).includes(opts.for)) throw new UsageError(`--for takes ${SNIPPET_TARGETS.join(', ')}, not "${opts.for}"`);
      const s = await session(cmd);
      const t = await s.client.getTrust(name);
      process.stdout.write(githubActionsSnippet({ trust: t.name, audience: t.audience, server: opts.loginServer ?? s.target.server }));
    });
}
