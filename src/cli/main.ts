import { Command, Option } from 'commander';
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { bashCompletion, zshCompletion } from './completion.js';
import { bootstrapCommand, serviceCommands, tokenCommands, userCommands } from './commands/identities.js';
import { auditCommand, canICommand, registryCommands, whoCanCommand } from './commands/operations.js';
import { policyCommands } from './commands/policies.js';
import { sessionCommands } from './commands/session.js';
import { trustCommands } from './commands/trusts.js';
import { FORMATS } from './output.js';
import { describeError, lastTarget, UsageError } from './runtime.js';

function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const serverOption = () => new Option('--server <host:port>', 'talk to this runed instead of the context\'s (env RUNE_SERVER)');
const contextOption = () => new Option('--context <name>', 'use this saved context instead of the current one');
const outputOption = () => new Option('-o, --output <format>', 'output format (default: table)').choices([...FORMATS]);

/**
 * The connection flags work before the command (`rune --context dev whoami`) and after it, as in
 * kubectl. `--server` names the runed except where it names something else (`registry add --server
 * ghcr.io`, as the seed docs write it); there the runed comes from --context or RUNE_SERVER.
 */
const SAMPLE_ARGS: Record<string, string> = { name: 'alice', 'token-id': 'tok_4f8Kq2mZ9xR1sT0vWb3Y', policy: 'readwrite', verb: 'list', resource: 'services', shell: 'bash' };

/** Every command's --help ends with an example: its own, or one made from its arguments. */
function addExamples(cmd: Command, path: string[] = []): void {
  for (const sub of cmd.commands) {
    const here = [...path, sub.name()];
    if (sub.commands.length > 0) {
      addExamples(sub, here);
      continue;
    }
    if ((sub as unknown as EventEmitter).listenerCount('afterHelp') > 0) continue; // it has its own
    const args = sub.registeredArguments.filter((a) => a.required).map((a) => SAMPLE_ARGS[a.name()] ?? a.name());
    sub.addHelpText('after', `\nExample:\n  rune ${[...here, ...args].join(' ')}\n`);
  }
}

function addConnectionOptions(cmd: Command): void {
  for (const sub of cmd.commands) {
    if (sub.commands.length > 0) {
      addConnectionOptions(sub);
      continue;
    }
    if (!sub.options.some((o) => o.long === '--server')) sub.addOption(serverOption());
    sub.addOption(contextOption()).addOption(outputOption());
  }
}

export function buildProgram(): Command {
  const program = new Command('rune')
    .description('rune admin: contexts, users, service accounts, policies, tokens and registries of a runed daemon')
    .version(`rune ${version()}`, '-v, --version')
    .addOption(serverOption())
    .addOption(contextOption())
    .addOption(outputOption())
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', '\nStart here:\n  rune admin bootstrap --out-file ~/.rune/token\n  rune login admin --server localhost:7863 --token-file ~/.rune/token\n  rune whoami\n');

  sessionCommands(program);
  const admin = program.command('admin').description('administration: bootstrap, users, service accounts, trusts, policies, tokens, registries, audit');
  bootstrapCommand(admin);
  userCommands(admin);
  serviceCommands(admin);
  trustCommands(admin);
  policyCommands(admin);
  tokenCommands(admin);
  registryCommands(admin);
  canICommand(admin);
  whoCanCommand(admin);
  auditCommand(admin);


  program
    .command('ui')
    .description('open the interactive terminal UI (the default when rune runs without arguments on a terminal)')
    .option('--read-only', 'hide every action that changes something')
    .action(async (opts: { readOnly?: boolean }, cmd: Command) => {
      const { runTui } = await import('../app/run.js');
      const context = (cmd.optsWithGlobals() as { context?: string }).context;
      process.exitCode = await runTui({ ...opts, ...(context ? { context } : {}) });
    });

  program
    .command('completion')
    .description('print a shell completion script')
    .argument('<shell>', 'bash or zsh')
    .addHelpText('after', '\nExamples:\n  rune completion bash > /etc/bash_completion.d/rune\n  echo \'source <(rune completion zsh)\' >> ~/.zshrc\n')
    .action((shell: string) => {
      if (shell === 'bash') process.stdout.write(bashCompletion(program));
      else if (shell === 'zsh') process.stdout.write(zshCompletion(program));
      else throw new UsageError(`completion is available for bash and zsh, not "${shell}"`);
    });
  addConnectionOptions(program);
  addExamples(program);
  return program;
}

/** Nothing but --context/--server/--read-only (`rune --context prod`): the UI, as `rune ui --context prod`. */
export function opensUi(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--read-only' || /^--(context|server)=./.test(a)) continue;
    if ((a === '--context' || a === '--server') && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++;
    else return false;
  }
  return true;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (opensUi(argv)) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) {
      process.stderr.write('error: rune without arguments opens the interactive UI, which needs a terminal; for scripts use the CLI: rune admin --help\n');
      process.exitCode = 2;
      return;
    }
    argv = ['ui', ...argv];
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    process.stderr.write(`error: ${describeError(e, lastTarget)}\n`);
    process.exitCode = 1;
  }
}
