import Conf from 'conf';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { ConfigError, checkContextName, configPath } from './paths.js';
import { parse as parseYaml, stringify as toYaml } from 'yaml';

import type { ConfigFile, ContextEntry } from './target.js';

export type { ContextEntry, Target } from './target.js';
export { contextToken, readContexts, resolveTarget } from './target.js';
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

