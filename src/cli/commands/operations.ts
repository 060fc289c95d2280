import type { Command } from 'commander';
import type { AuditEvent, Registry, RuneClient, WhoCanAnswer } from '../../api/client.js';
import { ApiError } from '../../api/errors.js';
import { age, render, type Columns, type Format } from '../output.js';
import { describeError, formatOf, readSecretInput, session, UsageError, writable } from '../runtime.js';
import { printOne } from './identities.js';

const registryColumns: Columns<Registry> = {
  headers: ['NAME', 'SERVER', 'TYPE', 'USERNAME', 'UPDATED'],
  row: (r) => [r.name, r.server, r.type, r.username ?? (r.type === 'ecr' ? `(aws ${r.region})` : ''), `${age(r.updatedAt)} ago`],
};

export function registryCommands(admin: Command): void {
  const registry = admin.command('registry').description('manage registry credentials so runed can pull private images');
  const body = (opts: { name?: string; server: string; username?: string; type?: string; region?: string; passwordFile?: string; passwordStdin?: boolean }) => {
    const password = readSecretInput(opts);
    return {
      ...(opts.name ? { name: opts.name } : {}),
      server: opts.server,
      type: opts.type ?? 'docker',
      ...(opts.username ? { username: opts.username } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(password !== undefined ? { password } : {}),
    };
  };
  const withCredentialFlags = (c: Command) =>
    c
      .requiredOption('--server <host>', 'registry host, e.g. ghcr.io (the runed address comes from the context or RUNE_SERVER here)')
      .option('--username <name>')
      .option('--password-file <file>', 'read the password/token from a file ("-" for stdin)')
      .option('--password-stdin', 'read the password/token from stdin')
      .option('--type <type>', 'docker or ecr', 'docker')
      .option('--region <region>', 'AWS region (ecr; credentials come from the host\'s AWS environment)');
  withCredentialFlags(
    registry
      .command('add')
      .description('add registry credentials (the password is stored encrypted and never shown again)')
      .requiredOption('--name <name>'),
  )
    .addHelpText('after', '\nExamples:\n  rune admin registry add --name ghcr-private --server ghcr.io --username my-bot --password-file ./ghcr.token\n  rune admin registry add --name ecr --type ecr --server 123456789012.dkr.ecr.eu-west-1.amazonaws.com --region eu-west-1\n')
    .action(async (opts: Parameters<typeof body>[0] & { name: string }, cmd: Command) => {
      const b = body(opts);
      if (b.type === 'docker' && b.password === undefined) throw new UsageError('a docker registry needs --password-file FILE or --password-stdin');
      const { client } = writable(await session(cmd, { serverFlagIsRunedAddress: false }));
      printOne(cmd, await client.addRegistry(b), registryColumns, `registry/${opts.name} added`);
    });
  withCredentialFlags(registry.command('replace').description('replace a registry\'s settings (omit the password to keep the stored one)').argument('<name>')).action(
    async (name: string, opts: Parameters<typeof body>[0], cmd: Command) => {
      const { client } = writable(await session(cmd, { serverFlagIsRunedAddress: false }));
      printOne(cmd, await client.replaceRegistry(name, body(opts)), registryColumns, `registry/${name} replaced`);
    },
  );
  registry
    .command('list')
    .description('list registries (passwords are never shown)')
    .action(async (_o: unknown, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.listRegistries(), formatOf(cmd), registryColumns));
    });
  registry
    .command('get')
    .description('show one registry')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.getRegistry(name), formatOf(cmd), registryColumns));
    });
  registry
    .command('remove')
    .description('remove registry credentials')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client } = writable(await session(cmd));
      printOne(cmd, await client.removeRegistry(name), registryColumns, `registry/${name} removed`);
    });
}

export function canICommand(admin: Command): void {
  admin
    .command('can-i')
    .description('check whether an action is allowed; exits 0 for yes, 1 for no')
    .argument('<verb>')
    .argument('<resource>')
    .option('-n, --namespace <ns>', 'the namespace (omit for cluster-scoped resources)')
    .option('--as <subject>', 'ask about another user or service account')
    .option('--token-id <id>', 'ask about a token (its narrowing applies)')
    .option('--explain', 'say which policy and rule decide, or what is missing')
    .addHelpText('after', '\nExamples:\n  rune admin can-i create services -n stg --as ci-stg --explain\n  rune admin can-i list users\n')
    .action(async (verb: string, resource: string, opts: { namespace?: string; as?: string; tokenId?: string; explain?: boolean }, cmd: Command) => {
      const { client } = await session(cmd);
      const answer = await client.check({
        verb,
        resource,
        ...(opts.namespace ? { namespace: opts.namespace } : {}),
        ...(opts.as ? { subject: opts.as } : {}),
        ...(opts.tokenId ? { token: opts.tokenId } : {}),
      });
      const format = formatOf(cmd);
      if (format === 'json' || format === 'yaml') process.stdout.write(render(answer, format, { headers: [], row: () => [] }));
      else {
        process.stdout.write(answer.allowed ? 'yes\n' : 'no\n');
        if (opts.explain) process.stdout.write(`${answer.reason}\n`);
      }
      if (!answer.allowed) process.exitCode = 1;
    });
}

type WhoCanRow = WhoCanAnswer['subjects'][number];
const whoCanColumns = (describeRule: (r: WhoCanRow['via']['rule']) => string): Columns<WhoCanRow> => ({
  headers: ['SUBJECT', 'TYPE', 'TOKENS', 'VIA'],
  // "2/3": two of its three live tokens carry the right (a narrowed token may not).
  row: (s) => [s.name, s.type, s.tokens === undefined ? '-' : s.tokens === s.liveTokens ? s.tokens : `${s.tokens}/${s.liveTokens}`, `${s.via.policy} rule ${s.via.index + 1} (${describeRule(s.via.rule)})`],
});

export function whoCanCommand(admin: Command): void {
  admin
    .command('who-can')
    .description('list every user and service account that may do VERB on RESOURCE, the rule that grants it, and its live tokens that carry it')
    .argument('<verb>')
    .argument('<resource>')
    .option('-n, --namespace <ns>', 'the namespace (omit for cluster-scoped resources, or to ask about every namespace)')
    .addHelpText('after', '\nExamples:\n  rune admin who-can delete services -n prod\n  rune admin who-can create tokens -o json\n\nTOKENS reads "2/3" when two of the subject\'s three live tokens carry the right (the third is narrowed to policies that do not).\n')
    .action(async (verb: string, resource: string, opts: { namespace?: string }, cmd: Command) => {
      const { client } = await session(cmd);
      const answer = await client.whoCan({ verb, resource, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
      const format = formatOf(cmd);
      if (format === 'json' || format === 'yaml') return void process.stdout.write(render(answer, format, { headers: [], row: () => [] }));
      const what = `${verb} ${resource}${answer.namespace ? ` in namespace ${answer.namespace}` : ''}`;
      if (answer.subjects.length === 0) process.stdout.write(`nobody may ${what}\n`);
      else process.stdout.write(render(answer.subjects, format, whoCanColumns((await import('../../core/rbac.js')).describeRule)));
      if (!answer.tokensCounted) process.stderr.write('note: token counts are left out: listing tokens needs "list" on "tokens"\n');
    });
}

const auditColumns: Columns<AuditEvent> = {
  headers: ['TIME', 'ACTOR', 'ACTION', 'RESOURCE', 'REF', 'OUTCOME', 'MESSAGE'],
  row: (e) => [e.time.replace(/\.\d+Z$/, 'Z'), e.actor ? `${e.actor.type}:${e.actor.name}` : '-', e.action, e.resource, e.ref ?? '-', e.outcome, e.message || '-'],
  wideHeaders: ['REMOTE', 'TOKEN-ID', 'ID'],
  wideRow: (e) => [e.remoteAddr, e.actor?.tokenId, e.id],
};

type AuditOptions = { actor?: string; action?: string; outcome?: string; resource?: string; since?: string; search?: string; limit: string; follow?: boolean; fromId?: string };

export function auditCommand(admin: Command): void {
  admin
    .command('audit')
    .description('show the audit trail, newest first; --follow streams new events as they happen')
    .option('--actor <name>')
    .option('--action <action>')
    .option('--outcome <outcome>', 'success, denied or error')
    .option('--resource <resource>')
    .option('--search <text>', 'only events whose actor, action, resource, ref, namespace or message contains this (any case)')
    .option('--since <when>', 'a duration back from now (1h, 7d) or a time (2026-01-31T12:00:00Z)')
    .option('--limit <n>', 'at most this many events', '50')
    .option('-f, --follow', 'keep printing new events, oldest first, until interrupted')
    .option('--from-id <id>', 'with --follow: start after this event id (resume where a shipper stopped)')
    .addHelpText('after', '\nExamples:\n  rune admin audit --outcome denied --since 24h\n  rune admin audit --follow -o jsonl --from-id 1200   # a SIEM shipper: resumes after event 1200\n')
    .action(async (opts: AuditOptions, cmd: Command) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
      if (opts.fromId !== undefined && (!opts.follow || !/^\d+$/.test(opts.fromId))) throw new UsageError('--from-id takes an event id (a whole number) and goes with --follow');
      const { client } = await session(cmd);
      const filters = {
        ...(opts.actor ? { actor: opts.actor } : {}),
        ...(opts.action ? { action: opts.action } : {}),
        ...(opts.outcome ? { outcome: opts.outcome } : {}),
        ...(opts.resource ? { resource: opts.resource } : {}),
        ...(opts.search ? { search: opts.search } : {}),
      };
      if (opts.follow) return followAudit(client, filters, opts, limit, formatOf(cmd));
      const items: AuditEvent[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.audit({
          ...filters,
          ...(opts.since ? { since: opts.since } : {}),
          limit: Math.min(1000, limit - items.length),
          ...(cursor ? { cursor } : {}),
        });
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < limit);
      process.stdout.write(render(items, formatOf(cmd), auditColumns));
    });
}

/**
 * Prints the newest `limit` events (or those after --from-id), then every new one as it is
 * written, oldest first. A lost connection is retried, resuming after the last event printed.
 */
async function followAudit(client: RuneClient, filters: Record<string, string>, opts: AuditOptions, limit: number, format: Format): Promise<void> {
  if (format === 'json' || format === 'yaml') throw new UsageError('--follow prints one event per line: use -o jsonl (or table, wide)');
  let after = opts.fromId !== undefined ? Number(opts.fromId) : undefined;
  if (after === undefined) {
    const newest = await client.audit({ ...filters, ...(opts.since ? { since: opts.since } : {}), limit: Math.min(1000, limit) });
    const first = newest.items.at(-1);
    after = first ? first.id - 1 : (await client.audit({ limit: 1 })).items[0]?.id ?? 0;
  }
  let failures = 0;
  for (;;) {
    try {
      const page = await client.audit({ ...filters, after, wait: '10s', limit: 1000 });
      failures = 0;
      if (page.items.length === 0) continue;
      // A stream has no end to align columns at: one event per line, fields three spaces apart.
      const line = (e: AuditEvent) => [...auditColumns.row(e), ...(format === 'wide' ? auditColumns.wideRow!(e) : [])].map((c) => (c === undefined || c === '' ? '-' : String(c))).join('   ');
      process.stdout.write(format === 'jsonl' ? render(page.items, 'jsonl', auditColumns) : page.items.map((e) => line(e) + '\n').join(''));
      after = page.items.at(-1)!.id;
    } catch (e) {
      if (e instanceof ApiError && e.status < 500) throw e;
      failures++;
      process.stderr.write(`rune: ${describeError(e)}; retrying after event ${after} in ${Math.min(30, 2 ** failures)}s\n`);
      await new Promise((r) => setTimeout(r, Math.min(30, 2 ** failures) * 1000));
    }
  }
}
