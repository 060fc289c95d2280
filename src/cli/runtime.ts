import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { reserveSecretFile, SecretFileError, type SecretFile } from '../config/secretFile.js';
import type { RuneClient, TokenNotice } from '../api/client.js';
import type { Target } from '../config/target.js';
import { formatDuration, MAX_TTL_MS, MAX_TTL_TEXT, parseDuration } from '../core/duration.js';
import { checkFormat, UsageError, type Format } from './output.js';

export { UsageError };
export { describeError } from '../format/errors.js';

export interface GlobalOptions {
  server?: string;
  context?: string;
  output?: string;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function formatOf(cmd: Command): Format {
  return checkFormat(globals(cmd).output ?? 'table');
}

export interface Session {
  target: Target;
  client: RuneClient;
}

/** The target of the command being run, so an error can say how to log in to it. */
export let lastTarget: Target | undefined;

/** The client for this command's target. The HTTP and config libraries load here, not at start-up. */
export async function session(cmd: Command, opts: { needsToken?: boolean; serverFlagIsRunedAddress?: boolean } = {}): Promise<Session> {
  const [{ RuneClient }, { resolveTarget }] = await Promise.all([import('../api/client.js'), import('../config/target.js')]);
  const g = { ...globals(cmd) };
  if (opts.serverFlagIsRunedAddress === false) {
    let root = cmd;
    while (root.parent) root = root.parent;
    g.server = (root.opts() as GlobalOptions).server;
  }
  const target = resolveTarget({ ...(g.context ? { context: g.context } : {}), ...(g.server ? { server: g.server } : {}) });
  lastTarget = target;
  if (opts.needsToken !== false && !target.token) {
    throw new UsageError(
      target.context
        ? `context "${target.context}" has no token for ${target.server}: log in with "rune login ${target.context} --server ${target.server} --token-file FILE"`
        : `not logged in: run "rune login NAME --server HOST:PORT --token-file FILE" (or set RUNE_TOKEN)`,
    );
  }
  const client = new RuneClient({
    server: target.server,
    ...(target.token ? { token: target.token } : {}),
    ...(target.caFile ? { caFile: target.caFile } : {}),
    onTokenNotice: (notice) => warnAboutToken(target, notice),
  });
  return { target, client };
}

const warned = new Set<keyof TokenNotice>();

/** One line on stderr per command and kind, never on stdout: scripts parsing the output are unaffected. */
/** The (public) id of a bearer string, read off its text: no request, no checksum. */
export const tokenIdOf = (bearer: string | undefined): string | undefined => /^rune_(tok_[0-9A-Za-z]+)_/.exec(bearer ?? '')?.[1];

function warnAboutToken(target: Target, notice: TokenNotice, now = Date.now()): void {
  const id = tokenIdOf(target.token) ?? 'the token';
  const whose = target.context ? `the token of context "${target.context}" (${id})` : `the token ${id}`;
  const left = (at: string) => formatDuration(Math.max(0, Math.floor((Date.parse(at) - now) / 60_000) * 60_000));
  if (notice.rotatedUntil && !warned.has('rotatedUntil')) {
    warned.add('rotatedUntil');
    process.stderr.write(`warning: ${whose} is a secret that a rotation replaced; it stops working at ${notice.rotatedUntil} (in ${left(notice.rotatedUntil)}): switch to the new secret\n`);
  }
  if (notice.expiresAt && !warned.has('expiresAt')) {
    warned.add('expiresAt');
    process.stderr.write(`warning: ${whose} expires at ${notice.expiresAt} (in ${left(notice.expiresAt)}): mint a new one before then (rune admin token create), or have an administrator extend it\n`);
  }
}

/** Refuses mutating commands on a read-only context before anything is sent. */
export function writable(s: Session): Session {
  if (s.target.readOnly) throw new UsageError(`context "${s.target.context}" is read-only: this command changes things`);
  return s;
}

export function checkTtl(ttl: string | undefined, flag = '--ttl'): string | undefined {
  if (ttl === undefined) return undefined;
  const ms = parseDuration(ttl);
  if (ms === undefined) throw new UsageError(`${flag} "${ttl}" is not a duration: use e.g. 720h, 90d or 1h30m`);
  if (ms <= 0) throw new UsageError(`${flag} must be greater than zero`);
  if (ms > MAX_TTL_MS) throw new UsageError(`${flag} "${ttl}" is longer than ${MAX_TTL_TEXT}, the most any TTL can be`);
  return ttl;
}

export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export interface SecretSink {
  /** Writes the secret (file: 0600; stdout: alone on its line) and says what was created. */
  deliver(secret: string, summary: string): void;
  /** Called when the request failed: removes the reserved file. */
  abort(): void;
}

/**
 * Reserves --out-file before anything is asked of the daemon, so a secret is never minted that
 * cannot be written: the file is created 0600 (its directory 0700 if missing); an existing file
 * is refused unless `force`, and then replaced atomically by a 0600 temporary file renamed over it.
 * Without --out-file the secret goes alone to stdout and the reminder to stderr.
 */
export function secretSink(opts: { outFile?: string; force?: boolean }): SecretSink {
  const path = opts.outFile;
  if (!path) {
    return {
      deliver(secret, summary) {
        process.stdout.write(secret + '\n');
        process.stderr.write(`${summary}. The secret is shown once: store it like a password (or use --out-file).\n`);
      },
      abort() {},
    };
  }
  let file: SecretFile;
  try {
    file = reserveSecretFile(path, { replace: opts.force });
  } catch (e) {
    throw new UsageError(e instanceof SecretFileError && e.exists ? `${path} already exists: pass --force to overwrite it` : (e as Error).message);
  }
  return {
    deliver(secret, summary) {
      file.write(secret);
      process.stdout.write(`${summary}; secret written to ${path} (mode 0600)\n`);
    },
    abort: () => file.abort(),
  };
}

/** Runs the request that mints a secret with the sink reserved first, and releases it on failure. */
export async function withSecretSink<T>(opts: { outFile?: string; force?: boolean }, request: () => Promise<T>): Promise<{ result: T; sink: SecretSink }> {
  const sink = secretSink(opts);
  try {
    return { result: await request(), sink };
  } catch (e) {
    sink.abort();
    throw e;
  }
}

export function readSecretInput(opts: { passwordFile?: string; passwordStdin?: boolean }): string | undefined {
  if (opts.passwordFile && opts.passwordStdin) throw new UsageError('use --password-file or --password-stdin, not both');
  const source = opts.passwordStdin ? '-' : opts.passwordFile;
  if (source === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(source === '-' ? 0 : source, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the password from ${source === '-' ? 'stdin' : source}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const value = text.replace(/\r?\n$/, '');
  if (!value) throw new UsageError(`the password from ${source === '-' ? 'stdin' : source} is empty`);
  return value;
}
