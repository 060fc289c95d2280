import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { ConfigError, configPath, DEFAULT_SERVER } from './paths.js';

/** One context of ~/.rune/config.yaml, with the key names the file uses. */
export interface ContextEntry {
  server: string;
  token?: string;
  'token-file'?: string;
  namespace?: string;
  'ca-file'?: string;
  production?: boolean;
  'read-only'?: boolean;
}

export interface ConfigFile {
  'current-context'?: string;
  contexts?: Record<string, ContextEntry>;
}

export interface Target {
  /** The context used, if any. */
  context?: string;
  server: string;
  token?: string;
  namespace: string;
  caFile?: string;
  production: boolean;
  readOnly: boolean;
}

/** Who to talk to and as whom: --context / current context, then RUNE_SERVER / --server and RUNE_TOKEN on top. */
/** What resolving a target needs of the contexts: reading only. */
interface ContextReader {
  current(): string | undefined;
  require(name: string): ContextEntry;
}

/** The one reader of the contexts file (~/.rune/config.yaml); a missing file is an empty one. */
export function readConfigFile(path: string): ConfigFile {
  if (!existsSync(path)) return {};
  let doc: ConfigFile;
  try {
    const text = readFileSync(path, 'utf8');
    doc = cachedParse(path, text) ?? parseAndCache(path, text);
  } catch (e) {
    throw new ConfigError(`${path} cannot be read: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${path} must be a mapping (current-context, contexts)`);
  const contexts = doc.contexts ?? {};
  if (typeof contexts !== 'object' || Array.isArray(contexts)) throw new ConfigError(`${path}: "contexts" must be a mapping of name to context`);
  return doc;
}

/**
 * yaml costs a command ~90 ms to load, more than the rest of a CLI call: the parsed file is kept
 * beside it as JSON (0600, like the file), used while the YAML text it came from is unchanged.
 */
export const configCachePath = (path: string) => join(dirname(path), `.${basename(path)}.json`);
const digest = (text: string) => createHash('sha256').update(text).digest('hex');

function cachedParse(path: string, text: string): ConfigFile | undefined {
  try {
    const cached = JSON.parse(readFileSync(configCachePath(path), 'utf8')) as { sha256?: string; doc?: ConfigFile };
    return cached.sha256 === digest(text) && cached.doc !== undefined ? cached.doc : undefined;
  } catch {
    return undefined; // no cache, or an unreadable one: parse the YAML
  }
}

function parseAndCache(path: string, text: string): ConfigFile {
  const { parse } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  const doc = (parse(text) ?? {}) as ConfigFile;
  try {
    const tmp = `${configCachePath(path)}.${process.pid}`;
    writeFileSync(tmp, JSON.stringify({ sha256: digest(text), doc }), { mode: 0o600 });
    renameSync(tmp, configCachePath(path));
  } catch {
    // a read-only home: every call parses the YAML
  }
  return doc;
}

/** The context `name` of `doc`, or an error that lists the known ones (or says how to log in). */
export function contextIn(doc: ConfigFile, name: string): ContextEntry {
  const contexts = doc.contexts ?? {};
  const entry = contexts[name];
  if (entry) return entry;
  const known = Object.keys(contexts);
  throw new ConfigError(`no context named "${name}"${known.length ? ` (known: ${known.join(', ')})` : ': log in first with "rune login NAME --server HOST:PORT --token-file FILE"'}`);
}

/** Reading the contexts, for resolving a target: every command does it, so it stays light (yaml only). */
export function readContexts(path: string): ContextReader {
  const doc = readConfigFile(path);
  return { current: () => doc['current-context'], require: (name) => contextIn(doc, name) };
}

/** A context's own token: inline, or read from its token file (a clear error when that is gone). */
export function contextToken(entry: ContextEntry, name: string): string | undefined {
  if (entry.token) return entry.token;
  if (!entry['token-file']) return undefined;
  try {
    return readFileSync(entry['token-file'], 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`token file ${entry['token-file']} of context "${name}" cannot be read (${(e as NodeJS.ErrnoException).code}): log in again with rune login`);
  }
}

export function resolveTarget(opts: { context?: string; server?: string }, env: NodeJS.ProcessEnv = process.env, store?: ContextReader): Target {
  const contexts = store ?? readContexts(configPath(env));
  const name = opts.context ?? contexts.current();
  const entry = name ? contexts.require(name) : undefined;
  const server = opts.server ?? env.RUNE_SERVER ?? entry?.server ?? DEFAULT_SERVER;
  // A context's token is never sent to another server than the context's own.
  const ownServer = entry !== undefined && server === entry.server;
  const token = env.RUNE_TOKEN || (ownServer && entry ? contextToken(entry, name!) : undefined);
  const target: Target = {
    server,
    namespace: entry?.namespace ?? 'default',
    production: entry?.production === true,
    readOnly: entry?.['read-only'] === true,
  };
  if (name) target.context = name;
  if (token) target.token = token;
  if (entry?.['ca-file']) target.caFile = entry['ca-file'];
  return target;
}
