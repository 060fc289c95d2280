import Conf from 'conf';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { ConfigError, checkContextName, configPath, DEFAULT_SERVER } from './paths.js';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

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

interface ConfigFile {
  'current-context'?: string;
  contexts?: Record<string, ContextEntry>;
}

export { ConfigError, checkContextName, configPath, DEFAULT_SERVER, runeHome } from './paths.js';

/** Contexts in a YAML file kept 0600 (conf writes it atomically). */
export class ContextStore {
  readonly path: string;
  private readonly conf: Conf<ConfigFile>;

  constructor(path = configPath()) {
    this.path = path;
    const dir = dirname(path);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      this.conf = new Conf<ConfigFile>({
        cwd: dir,
        configName: basename(path, extname(path)),
        fileExtension: extname(path).replace(/^\./, '') || 'yaml',
        configFileMode: 0o600,
        accessPropertiesByDotNotation: false,
        serialize: (value) => toYaml(value),
        deserialize: (text) => (parseYaml(text) ?? {}) as ConfigFile,
        clearInvalidConfig: false,
      });
    } catch (e) {
      throw new ConfigError(`${path} cannot be read: ${(e as Error).message.split('\n')[0]}`);
    }
    if (existsSync(path)) chmodSync(path, 0o600);
  }

  current(): string | undefined {
    return this.conf.get('current-context');
  }

  contexts(): Record<string, ContextEntry> {
    const contexts = this.conf.get('contexts') ?? {};
    if (typeof contexts !== 'object' || Array.isArray(contexts)) throw new ConfigError(`${this.path}: "contexts" must be a mapping of name to context`);
    return contexts;
  }

  get(name: string): ContextEntry | undefined {
    return this.contexts()[name];
  }

  require(name: string): ContextEntry {
    const entry = this.get(name);
    if (!entry) {
      const known = Object.keys(this.contexts());
      throw new ConfigError(`no context named "${name}"${known.length ? ` (known: ${known.join(', ')})` : ': log in first with "rune login NAME --server HOST:PORT --token-file FILE"'}`);
    }
    return entry;
  }

  set(name: string, entry: ContextEntry): void {
    checkContextName(name);
    this.conf.set('contexts', { ...this.contexts(), [name]: entry });
  }

  use(name: string): void {
    this.require(name);
    this.conf.set('current-context', name);
  }

  delete(name: string): void {
    this.require(name);
    const { [name]: _gone, ...rest } = this.contexts();
    this.conf.set('contexts', rest);
    if (this.current() === name) this.conf.delete('current-context');
  }
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
export function resolveTarget(opts: { context?: string; server?: string }, env: NodeJS.ProcessEnv = process.env, store?: ContextStore): Target {
  const contexts = store ?? (existsSync(configPath(env)) || opts.context ? new ContextStore(configPath(env)) : undefined);
  const name = opts.context ?? contexts?.current();
  const entry = name && contexts ? contexts.require(name) : undefined;
  const server = opts.server ?? env.RUNE_SERVER ?? entry?.server ?? DEFAULT_SERVER;
  // A context's token is never sent to another server than the context's own.
  const ownServer = entry !== undefined && server === entry.server;
  let token = env.RUNE_TOKEN || (ownServer ? entry?.token : undefined);
  if (!token && ownServer && entry?.['token-file']) {
    try {
      token = readFileSync(entry['token-file'], 'utf8').trim();
    } catch (e) {
      throw new ConfigError(`token file ${entry['token-file']} of context "${name}" cannot be read (${(e as NodeJS.ErrnoException).code}): log in again with rune login`);
    }
  }
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
