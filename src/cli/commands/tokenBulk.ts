import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { RuneError } from '../../core/errors.js';
import { formatSelector, parseSelector, type Selector } from '../../core/selector.js';
import { parseDuration } from '../../core/duration.js';
import type { Token, TokenBulkAnswer } from '../../core/wire.js';
import { age, render, type Columns } from '../output.js';
import { formatOf, session, UsageError, writable } from '../runtime.js';

/** Who holds it, how old, when last used, and what it carries: what deciding on a token needs. */
export const hygieneColumns = (policiesOf: (t: Token) => string): Columns<Token> => ({
  headers: ['ID', 'NAME', 'SUBJECT', 'TYPE', 'POLICIES', 'LAST-USED', 'AGE', 'STATUS'],
  row: (t) => [t.id, t.name, t.subjectName, t.subjectType, policiesOf(t), t.lastUsedAt ? `${age(t.lastUsedAt)} ago` : 'never', age(t.createdAt), t.status],
});

const ownPolicies = (t: Token) => (t.policies.length > 0 ? t.policies.join(',') : "(subject's)");

/** The selector checked here, so a typo is named before anything is sent. */
export function checkSelector(text: string, flag = '--selector'): Selector {
  try {
    return parseSelector(text);
  } catch (e) {
    if (e instanceof RuneError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

function checkCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`--expect must be a whole number of tokens, not "${text}"`);
  return Number(text);
}

/** A bulk answer: the object for -o json/yaml; else the tokens, what happened and what was skipped. */
function printBulk(cmd: Command, answer: TokenBulkAnswer, columns: Columns<Token>): void {
  const format = formatOf(cmd);
  if (format === 'json' || format === 'yaml' || format === 'jsonl') {
    process.stdout.write(render(answer, format, { headers: [], row: () => [] }));
    return;
  }
  const done = answer.action === 'revoke' ? 'revoked' : 'disabled';
  if (answer.tokens.length > 0) process.stdout.write(render(answer.tokens, 'table', columns));
  process.stdout.write(
    answer.dryRun
      ? `would ${answer.action} ${answer.count} token(s) matching ${answer.selector} (dry run: nothing changed)\n`
      : `${done} ${answer.count} token(s) matching ${answer.selector}\n`,
  );
  for (const s of answer.skipped) process.stdout.write(`skipped ${s.token.id} (${s.token.name}): ${s.reason}\n`);
}

/** `token revoke ID`, or `token revoke --selector EXPR [--dry-run] [--expect N]`. */
export function revokeCommand(token: Command, columns: Columns<Token>, printOne: (cmd: Command, t: Token, summary: string) => void): void {
  token
    .command('revoke')
    .description('revoke a token by id, or every live token a selector matches (never the one making the call): the next request with it answers Unauthenticated')
    .argument('[token-id]')
    .option('--selector <expr>', 'terms joined by commas (AND): subject=NAME, policy=NAME, name-prefix=TEXT, created-by=TOKEN_ID, unused-for=DURATION, expires-within=DURATION, kind=user|service, search=TEXT')
    .option('--dry-run', 'with --selector: list what would be revoked and change nothing')
    .option('--expect <n>', 'with --selector: refuse, revoking nothing, unless exactly N tokens would be revoked')
    .addHelpText(
      'after',
      '\nExamples:\n  rune admin token revoke tok_4f8Kq2mZ9xR1sT0vWb3Y\n  rune admin token revoke --selector subject=alice,kind=user --dry-run\n  rune admin token revoke --selector created-by=tok_4f8Kq2mZ9xR1sT0vWb3Y --expect 12\n',
    )
    .action(async (id: string | undefined, opts: { selector?: string; dryRun?: boolean; expect?: string }, cmd: Command) => {
      if (id !== undefined && opts.selector !== undefined) throw new UsageError('give a token id or --selector, not both');
      if (id === undefined && opts.selector === undefined) throw new UsageError('give a token id, or --selector EXPR (e.g. --selector subject=alice --dry-run)');
      if (id !== undefined) {
        if (opts.dryRun || opts.expect !== undefined) throw new UsageError('--dry-run and --expect go with --selector');
        const { client } = writable(await session(cmd));
        printOne(cmd, await client.revokeToken(id), `token/${id} revoked`);
        return;
      }
      const selector = formatSelector(checkSelector(opts.selector!));
      const expect = checkCount(opts.expect);
      const s = await session(cmd);
      const { client } = opts.dryRun ? s : writable(s);
      const answer = await client.revokeTokens({ selector, ...(opts.dryRun ? { dryRun: true } : {}), ...(expect !== undefined ? { expect } : {}) });
      printBulk(cmd, answer, columns);
    });
}

/** Reads one line typed on the terminal after `question` (written to stderr). */
function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    // Resolved before close: closing emits "close" at once, which answers "" (end of input).
    rl.question(question, (answer) => {
      resolve(answer.trim());
      rl.close();
    });
    rl.on('close', () => resolve(''));
  });
}

/** `token stale --unused-for 30d [--disable [--yes]]`: the tokens nobody uses, and disabling them. */
export function staleCommand(token: Command): void {
  token
    .command('stale')
    .description('list live tokens not used for a while (never-used ones count from their creation), with owner, age and policies; --disable disables them after a preview')
    .option('--unused-for <duration>', 'unused for at least this long', '30d')
    .option('--selector <expr>', 'narrow further, e.g. kind=service (the same terms as token revoke --selector)')
    .option('--disable', 'disable them: shows what would be disabled, asks you to type the count, then disables exactly those')
    .option('--yes', 'with --disable: do not ask (for scripts)')
    .addHelpText('after', '\nExamples:\n  rune admin token stale --unused-for 30d\n  rune admin token stale --unused-for 90d --selector kind=service --disable\n')
    .action(async (opts: { unusedFor: string; selector?: string; disable?: boolean; yes?: boolean }, cmd: Command) => {
      const ms = parseDuration(opts.unusedFor);
      if (ms === undefined || ms <= 0) throw new UsageError(`--unused-for "${opts.unusedFor}" is not a duration: use e.g. 30d, 12w or 720h`);
      if (opts.yes && !opts.disable) throw new UsageError('--yes goes with --disable');
      const narrowed = opts.selector !== undefined ? checkSelector(opts.selector) : {};
      if (narrowed.unusedFor !== undefined) throw new UsageError('give the idle time with --unused-for, not in --selector');
      const selector = formatSelector({ ...narrowed, unusedFor: ms });
      const s = await session(cmd);
      const policiesOf = await subjectPolicies(s.client);
      const columns = hygieneColumns(policiesOf);
      if (!opts.disable) {
        process.stdout.write(render(await s.client.listTokens({ selector }), formatOf(cmd), columns));
        return;
      }
      const { client } = writable(s);
      const preview = await client.disableTokens({ selector, dryRun: true });
      const format = formatOf(cmd);
      const quiet = format === 'json' || format === 'yaml' || format === 'jsonl';
      // The preview goes where a person reads it: stdout for a table, stderr beside machine output.
      const out = quiet ? process.stderr : process.stdout;
      if (preview.tokens.length > 0) out.write(render(preview.tokens, 'table', columns));
      out.write(`would disable ${preview.count} token(s) matching ${preview.selector}\n`);
      if (preview.count === 0) {
        if (quiet) process.stdout.write(render(preview, format, { headers: [], row: () => [] }));
        return;
      }
      if (!opts.yes) {
        if (!process.stdin.isTTY) {
          throw new UsageError(`refusing to disable ${preview.count} token(s) without a confirmation: stdin is not a terminal; review the list above and pass --yes to confirm`);
        }
        const typed = await ask(`Disable these ${preview.count} token(s)? Type ${preview.count} to confirm: `);
        if (typed !== String(preview.count)) throw new UsageError(`not confirmed ("${typed}" is not ${preview.count}): nothing was disabled`);
      }
      // Exactly what was shown: if the set changed meanwhile, the daemon refuses (409) and nothing changes.
      printBulk(cmd, await client.disableTokens({ selector, expect: preview.count }), columns);
    });
}

/** What each token carries: its narrowing, else its subject's policies (when the caller may read subjects). */
async function subjectPolicies(client: import('../../api/client.js').RuneClient): Promise<(t: Token) => string> {
  const held = new Map<string, string[]>();
  const subjects = await Promise.all([client.listUsers().catch(() => []), client.listServiceAccounts().catch(() => [])]);
  for (const list of subjects) for (const subject of list) held.set(subject.id, subject.policies);
  return (t) => (t.policies.length > 0 ? t.policies.join(',') : held.has(t.subjectId) ? held.get(t.subjectId)!.join(',') : ownPolicies(t));
}
