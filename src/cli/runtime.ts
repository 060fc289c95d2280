import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import type { RuneClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import type { Target } from '../config/target.js';
import { ConfigError } from '../config/paths.js';
import { parseDuration } from '../core/duration.js';
import { checkFormat, UsageError, type Format } from './output.js';

export { UsageError };

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
  const client = new RuneClient({ server: target.server, ...(target.token ? { token: target.token } : {}), ...(target.caFile ? { caFile: target.caFile } : {}) });
  return { target, client };
}

/** Refuses mutating commands on a read-only context before anything is sent. */
export function writable(s: Session): Session {
  if (s.target.readOnly) throw new UsageError(`context "${s.target.context}" is read-only: this command changes things`);
  return s;
}

/** One line for stderr that says what went wrong and what to do next. */
export function describeError(e: unknown, target?: Target): string {
  if (e instanceof ApiError) {
    const server = target?.server ?? (typeof e.details?.server === 'string' ? e.details.server : 'HOST:PORT');
    switch (e.code) {
      case 'unavailable':
        if (/CERT|SELF_SIGNED|TLS|SSL/.test(String(e.details?.cause ?? ''))) {
          return `${e.message}: the server's certificate is not trusted; give its CA with "rune login NAME --server ${server} --ca-file CA.pem --token-file FILE"`;
        }
        return `${e.message}: start it on that host with "runed" (or "npm start"), or choose another with --server or --context`;
      case 'unauthenticated':
        return `${e.message}: log in again with "rune login ${target?.context ?? 'NAME'} --server ${server} --token-file FILE"`;
      case 'rate_limited':
        return `${e.message}`;
      default:
        return e.message;
    }
  }
  if (e instanceof UsageError || e instanceof ConfigError) return e.message;
  return (e as Error)?.message ?? String(e);
}

export function checkTtl(ttl: string | undefined): string | undefined {
  if (ttl === undefined) return undefined;
  const ms = parseDuration(ttl);
  if (ms === undefined) throw new UsageError(`--ttl "${ttl}" is not a duration: use e.g. 720h, 90d or 1h30m`);
  if (ms <= 0) throw new UsageError('--ttl must be greater than zero');
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
  const dir = dirname(path);
  const target = opts.force ? join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`) : path;
  let fd: number;
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = openSync(target, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UsageError(`${path} already exists: pass --force to overwrite it`);
    throw new UsageError(`cannot write ${path}: ${code ?? (e as Error).message}`);
  }
  return {
    deliver(secret, summary) {
      try {
        writeSync(fd, secret + '\n');
      } finally {
        closeSync(fd);
      }
      if (target !== path) renameSync(target, path);
      process.stdout.write(`${summary}; secret written to ${path} (mode 0600)\n`);
    },
    abort() {
      closeSync(fd);
      rmSync(target, { force: true });
    },
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
