import type { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError } from '../../api/errors.js';
import type { RuneClient } from '../../api/client.js';
import type { LintResponse, Policy } from '../../core/wire.js';
import { editInEditor } from '../../terminal/editor.js';
import { render, table, type Columns } from '../output.js';
import { formatOf, session, UsageError, writable } from '../runtime.js';
import { printDone, printOne } from './identities.js';

const policyColumns: Columns<Policy> = {
  headers: ['NAME', 'BUILTIN', 'RULES', 'DESCRIPTION'],
  row: (p) => [p.name, p.builtin ? 'yes' : 'no', p.rules.length, p.description],
  wideHeaders: ['UPDATED'],
  wideRow: (p) => [p.updatedAt],
};

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file === '-' ? 'stdin' : file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Checks the YAML locally first, so errors name FILE:line:column without a round trip. */
async function checkLocally(text: string, file: string): Promise<string> {
  const { lintPolicyText } = await import('../../core/policy.js');
  const lint = lintPolicyText(text);
  if (!lint.valid) {
    const e = lint.errors[0]!;
    throw new UsageError(`${file}${e.line !== undefined ? `:${e.line}:${e.column}` : ''}: ${e.message}${lint.errors.length > 1 ? ` (and ${lint.errors.length - 1} more)` : ''}`);
  }
  return lint.policy!.name;
}

function printWarnings(warnings: LintResponse['warnings'] | undefined, file: string): void {
  for (const w of warnings ?? []) process.stderr.write(`warning: ${file}${w.line !== undefined ? `:${w.line}:${w.column}` : ''}: ${w.message}\n`);
}

function describePolicy(p: Policy & { attachedTo?: { name: string; type: string }[] }): string {
  const attached = p.attachedTo?.length ? p.attachedTo.map((h) => `${h.type} ${h.name}`).join(', ') : '<none>';
  return (
    `Name:         ${p.name}\nDescription:  ${p.description || '<none>'}\nBuilt-in:     ${p.builtin ? 'yes (read-only)' : 'no'}\nAttached to:  ${attached}\nRules:\n` +
    table(['RESOURCE', 'VERBS', 'NAMESPACE'], p.rules.map((r) => [r.resource, r.verbs.join(','), r.namespace ?? '* (omitted)'])).replace(/^(?=.)/gm, '  ')
  );
}

export function policyCommands(admin: Command): void {
  const policy = admin.command('policy').description('manage policies (YAML)');
  policy
    .command('create')
    .description('create a policy from a YAML file')
    .requiredOption('-f, --file <file>', 'policy YAML ("-" for stdin)')
    .addHelpText('after', '\nExample:\n  rune admin policy create -f policy.yaml\n\npolicy.yaml:\n  name: editor-prod\n  description: Edit services in \'prod\' only\n  rules:\n  - resource: services\n    verbs: [get, list, watch, create, update, delete, scale, exec]\n    namespace: prod\n')
    .action(async (opts: { file: string }, cmd: Command) => {
      const text = readPolicyFile(opts.file);
      await checkLocally(text, opts.file);
      const { client } = writable(await session(cmd));
      const created = await client.createPolicy(text);
      printWarnings(created.warnings, opts.file);
      printOne(cmd, created, policyColumns, `policy/${created.name} created`);
    });
  policy
    .command('apply')
    .description('create the policy in a YAML file, or replace it if it exists; says who gains and who loses which rights')
    .requiredOption('-f, --file <file>', 'policy YAML ("-" for stdin)')
    .option('--dry-run', 'print who would gain and lose which rights, and save nothing')
    .addHelpText('after', '\nExamples:\n  rune admin policy apply -f policy.yaml --dry-run   # the impact, nothing saved\n  rune admin policy apply -f policy.yaml             # the impact on stderr, then saved\n')
    .action(async (opts: { file: string; dryRun?: boolean }, cmd: Command) => {
      const text = readPolicyFile(opts.file);
      const name = await checkLocally(text, opts.file);
      if (opts.dryRun) {
        const { client } = await session(cmd);
        const impact = await client.policyImpact(name, text);
        const format = formatOf(cmd);
        if (format === 'json' || format === 'yaml') process.stdout.write(render(impact, format, { headers: [], row: () => [] }));
        else process.stdout.write(`${impact.summary.join('\n')}\ndry run: policy/${name} not ${impact.exists ? 'changed' : 'created'}\n`);
        return;
      }
      const { client } = writable(await session(cmd));
      await printImpact(client, name, text);
      let exists = true;
      try {
        await client.getPolicy(name);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 'not_found')) throw e;
        exists = false;
      }
      const saved = exists ? await client.replacePolicy(name, text) : await client.createPolicy(text);
      printWarnings(saved.warnings, opts.file);
      printOne(cmd, saved, policyColumns, `policy/${name} ${exists ? 'configured' : 'created'}`);
    });
  policy
    .command('get')
    .description('show a policy and its rules')
    .argument('<name>')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const p = await (await session(cmd)).client.getPolicy(name);
      const format = formatOf(cmd);
      process.stdout.write(format === 'table' || format === 'wide' ? describePolicy(p) : render(p, format, policyColumns));
    });
  policy
    .command('list')
    .description('list policies')
    .action(async (_o: unknown, cmd: Command) => {
      process.stdout.write(render(await (await session(cmd)).client.listPolicies(), formatOf(cmd), policyColumns));
    });
  policy
    .command('attach')
    .description('attach a policy to a user or service account')
    .argument('<policy>')
    .option('--to-user <name>')
    .option('--to-service <name>')
    .addHelpText('after', '\nExample:\n  rune admin policy attach readwrite --to-user alice\n')
    .action(async (name: string, opts: { toUser?: string; toService?: string }, cmd: Command) => {
      if (!opts.toUser === !opts.toService) throw new UsageError('give exactly one of --to-user NAME or --to-service NAME');
      const { client } = writable(await session(cmd));
      const res = opts.toUser ? await client.attachToUser(opts.toUser, name) : await client.attachToServiceAccount(opts.toService!, name);
      printDone(cmd, res, `policy/${name} attached to ${opts.toUser ? `user ${opts.toUser}` : `service ${opts.toService}`}`);
    });
  policy
    .command('detach')
    .description('detach a policy from a user or service account')
    .argument('<policy>')
    .option('--from-user <name>')
    .option('--from-service <name>')
    .addHelpText('after', '\nExample:\n  rune admin policy detach readwrite --from-user alice\n')
    .action(async (name: string, opts: { fromUser?: string; fromService?: string }, cmd: Command) => {
      if (!opts.fromUser === !opts.fromService) throw new UsageError('give exactly one of --from-user NAME or --from-service NAME');
      const { client } = writable(await session(cmd));
      const res = opts.fromUser ? await client.detachFromUser(opts.fromUser, name) : await client.detachFromServiceAccount(opts.fromService!, name);
      printDone(cmd, res, `policy/${name} detached from ${opts.fromUser ? `user ${opts.fromUser}` : `service ${opts.fromService}`}`);
    });
  policy
    .command('delete')
    .description('delete a policy (it is detached from everyone who holds it); says who loses which rights')
    .argument('<name>')
    .option('--dry-run', 'print who would lose which rights, and delete nothing')
    .addHelpText('after', '\nExamples:\n  rune admin policy delete ci-deployer --dry-run   # the impact, nothing deleted\n  rune admin policy delete ci-deployer             # the impact on stderr, then deleted\n')
    .action(async (name: string, opts: { dryRun?: boolean }, cmd: Command) => {
      const detached = (holders: { name: string; type: string }[]) => (holders.length ? ` (detached from ${holders.map((h) => `${h.type} ${h.name}`).join(', ')})` : '');
      const format = formatOf(cmd);
      if (opts.dryRun) {
        const { client } = await session(cmd);
        const answer = await client.deletePolicy(name, { dryRun: true });
        if (format === 'json' || format === 'yaml') process.stdout.write(render(answer, format, { headers: [], row: () => [] }));
        else process.stdout.write(`${answer.impact.summary.join('\n')}\ndry run: policy/${name} not deleted${detached(answer.detachedFrom).replace('detached', 'it would be detached')}\n`);
        return;
      }
      const { client } = writable(await session(cmd));
      const res = await client.deletePolicy(name);
      if (format !== 'json' && format !== 'yaml') process.stderr.write(res.impact.summary.map((line) => `impact: ${line}\n`).join(''));
      printDone(cmd, res, `policy/${name} deleted${detached(res.detachedFrom)}`);
    });
  policy
    .command('edit')
    .description('edit a policy in $VISUAL / $EDITOR; invalid YAML re-opens the editor with the errors')
    .argument('<name>')
    .addHelpText('after', '\nExample:\n  EDITOR=nano rune admin policy edit alice-dev\n')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const { client } = writable(await session(cmd));
      const current = await client.getPolicy(name);
      if (current.builtin) {
        throw new UsageError(`policy "${name}" is built in and cannot be edited: copy it with "rune admin policy get ${name} -o yaml", rename it, and "rune admin policy create -f" the copy`);
      }
      const { lintPolicyText, policyToYaml } = await import('../../core/policy.js');
      // The text it was last written as, comments and layout included; a policy written as JSON has none.
      const original = current.source ?? policyToYaml(current);
      const header = `# Edit policy "${name}". These notes are removed on save; your own comments are kept. Save an unchanged file to cancel.\n`;
      // Only the lines this command adds are taken out again: the policy's own comments stay.
      const added = new Set<string>([header.trimEnd()]);
      const stripComments = (t: string) => t.split(/(?<=\n)/).filter((line) => !added.has(line.replace(/\r?\n$/, ''))).join('');
      let text = header + original;
      let lastErrors = false;
      for (;;) {
        const body = stripComments(editInEditor(text, `${name}.yaml`));
        if (body.trim() === stripComments(text).trim()) {
          if (!lastErrors) {
            process.stdout.write('Edit cancelled, no changes made.\n');
            return;
          }
          throw new UsageError(`edit cancelled: the policy is still invalid; your changes are in ${keepCopy(name, body)}`);
        }
        const lint = lintPolicyText(body);
        const problems = lint.valid
          ? lint.policy!.name !== name ? [{ message: `name: a policy cannot be renamed (it is "${name}")` }] : []
          : lint.errors;
        lastErrors = problems.length > 0;
        if (lastErrors) {
          // The errors go on top of the file, so line numbers are shifted by the header's length.
          const shift = problems.length + 2;
          const lines = problems.map((e: { line?: number; column?: number; message: string }) =>
            `# error: ${e.line !== undefined ? `line ${e.line + shift}, column ${e.column}: ` : ''}${e.message}`);
          added.clear();
          const notes = ['# The policy was not saved:', ...lines, '# (the policy follows; these notes are removed on save)'];
          for (const line of notes) added.add(line);
          text = `${notes.join('\n')}\n${body}`;
          continue;
        }
        try {
          await printImpact(client, name, body);
          const saved = await client.replacePolicy(name, body);
          printWarnings(saved.warnings, `${name}.yaml`);
          process.stdout.write(`policy/${name} edited\n`);
          return;
        } catch (e) {
          const copy = keepCopy(name, body);
          throw new UsageError(`${(e as Error).message}; your changes are in ${copy}`);
        }
      }
    });
}

/** Who gains and loses what, on stderr before a save (stdout keeps the result scripts read). */
async function printImpact(client: RuneClient, name: string, text: string): Promise<void> {
  try {
    const impact = await client.policyImpact(name, text);
    process.stderr.write(impact.summary.map((line) => `impact: ${line}\n`).join(''));
  } catch (e) {
    // The save is authorised on its own: an impact the caller may not see does not stop it.
    if (!(e instanceof ApiError) || e.status >= 500 || e.status === 0 || e.code === 'invalid_argument' || e.code === 'failed_precondition') throw e;
    process.stderr.write(`impact: not shown (${e.message})\n`);
  }
}

function keepCopy(name: string, body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'rune-edit-')), `${name}.yaml`);
  writeFileSync(file, body, { mode: 0o600 });
  return file;
}
