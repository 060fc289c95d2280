import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { checkContextName, configPath } from './paths.js';
import { configCachePath, contextIn, readConfigFile, type ConfigFile, type ContextEntry } from './target.js';

export type { ContextEntry, Target } from './target.js';
export { contextToken, readContexts, resolveTarget } from './target.js';
export { ConfigError, checkContextName, configPath, DEFAULT_SERVER, runeHome } from './paths.js';

/**
 * Contexts in a YAML file kept 0600: read through the one reader (target.ts readConfigFile) each
 * time, so another rune process's login shows at once; written whole, atomically (a 0600 temporary
 * file renamed over it).
 */
export class ContextStore {
  readonly path: string;

  constructor(path = configPath()) {
    this.path = path;
    const dir = dirname(path);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    readConfigFile(path);
    if (existsSync(path)) chmodSync(path, 0o600);
  }

  private read(): ConfigFile {
    return readConfigFile(this.path);
  }

  private write(doc: ConfigFile): void {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      writeFileSync(tmp, toYaml(doc), { mode: 0o600, flag: 'wx' });
      renameSync(tmp, this.path);
      // The parsed copy of the old text must not outlive it (it may hold a token that was removed).
      rmSync(configCachePath(this.path), { force: true });
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  current(): string | undefined {
    return this.read()['current-context'];
  }

  contexts(): Record<string, ContextEntry> {
    return this.read().contexts ?? {};
  }

  get(name: string): ContextEntry | undefined {
    return this.contexts()[name];
  }

  require(name: string): ContextEntry {
    return contextIn(this.read(), name);
  }

  set(name: string, entry: ContextEntry): void {
    checkContextName(name);
    const doc = this.read();
    this.write({ ...doc, contexts: { ...doc.contexts, [name]: entry } });
  }

  use(name: string): void {
    const doc = this.read();
    contextIn(doc, name);
    this.write({ ...doc, 'current-context': name });
  }

  delete(name: string): void {
    const doc = this.read();
    contextIn(doc, name);
    const { [name]: _gone, ...rest } = doc.contexts ?? {};
    const { 'current-context': current, ...others } = doc;
    this.write({ ...others, ...(current && current !== name ? { 'current-context': current } : {}), contexts: rest });
  }
}
