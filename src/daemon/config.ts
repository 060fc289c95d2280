import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatDuration, MAX_TTL_MS, MAX_TTL_TEXT, parseDuration } from '../core/duration.js';
import { suggest } from '../core/names.js';
import { parsePostgresUrl } from './store/postgresUrl.js';

/** The longest a Node timer can wait: 24 whole days, under 2^31-1 ms. */
const MAX_TIMER_MS = 24 * 86_400_000;

export interface DaemonConfig {
  listen: string;
  dataDir: string;
  /** postgres://USER@HOST:PORT/DB runs on PostgreSQL; unset (or `sqlite`) = SQLite in the data dir. */
  store?: string;
  /** A file holding the PostgreSQL password (else PGPASSWORD); never the URL, never a flag value. */
  storePasswordFile?: string;
  auth: {
    allowRemoteAdmin: boolean;
    /** Milliseconds; undefined = no expiry unless tokenMaxTtl is set. */
    tokenDefaultTtl?: number;
    tokenMaxTtl?: number;
    /** Failed authentications from one address within failedAuthWindow before answering 429. */
    failedAuthLimit: number;
    failedAuthWindow: number;
    /** Failed authentications per second from all addresses together before answering 429. */
    failedAuthPerSecond: number;
    /** How long expired and revoked tokens are kept before the sweep deletes them. */
    tokenRetention: number;
    sweepInterval: number;
    /** The longest TTL a trust may give the tokens it mints (OIDC exchange). */
    oidcMaxTtl: number;
  };
  tls: { certFile?: string; keyFile?: string };
  cors: { allowedOrigins: string[] };
  log: { level: string };
  limits: {
    bodyBytes: number;
    /** A policy document's size and rule count; beyond them it is refused before it is parsed. */
    policyBytes: number;
    policyRules: number;
    /** Milliseconds a request may take in all, to send its headers, and to idle between requests. */
    requestTimeout: number;
    headersTimeout: number;
    keepAliveTimeout: number;
    /** Connections open at once; more are closed as they arrive. */
    maxConnections: number;
  };
  /** Key files; unset = in the data dir. Kept elsewhere, a backup of the data dir holds no key. */
  keys: { kekFile?: string; serverKeyFile?: string; auditKeyFile?: string };
  /** The audit head checkpoint file; unset = `<dataDir>/audit.head`. */
  audit: { headFile?: string };
}

type Kind = 'string' | 'bool' | 'duration' | 'int' | 'list' | 'level';

interface Setting {
  key: string;
  kind: Kind;
  flag?: string;
}

/** Every setting, with its environment variable derived from the key (auth.tokenMaxTtl → RUNE_AUTH_TOKEN_MAX_TTL). */
const SETTINGS: Setting[] = [
  { key: 'listen', kind: 'string', flag: '--listen' },
  { key: 'dataDir', kind: 'string', flag: '--data-dir' },
  { key: 'store', kind: 'string', flag: '--store' },
  { key: 'storePasswordFile', kind: 'string', flag: '--store-password-file' },
  { key: 'auth.allowRemoteAdmin', kind: 'bool', flag: '--allow-remote-admin' },
  { key: 'auth.tokenDefaultTtl', kind: 'duration', flag: '--token-default-ttl' },
  { key: 'auth.tokenMaxTtl', kind: 'duration', flag: '--token-max-ttl' },
  { key: 'auth.failedAuthLimit', kind: 'int' },
  { key: 'auth.failedAuthWindow', kind: 'duration' },
  { key: 'auth.failedAuthPerSecond', kind: 'int' },
  { key: 'auth.tokenRetention', kind: 'duration' },
  { key: 'auth.sweepInterval', kind: 'duration' },
  { key: 'auth.oidcMaxTtl', kind: 'duration' },
  { key: 'tls.certFile', kind: 'string', flag: '--tls-cert-file' },
  { key: 'tls.keyFile', kind: 'string', flag: '--tls-key-file' },
  { key: 'cors.allowedOrigins', kind: 'list' },
  { key: 'log.level', kind: 'level', flag: '--log-level' },
  { key: 'limits.bodyBytes', kind: 'int' },
  { key: 'limits.policyBytes', kind: 'int' },
  { key: 'limits.policyRules', kind: 'int' },
  { key: 'limits.requestTimeout', kind: 'duration' },
  { key: 'limits.headersTimeout', kind: 'duration' },
  { key: 'limits.keepAliveTimeout', kind: 'duration' },
  { key: 'limits.maxConnections', kind: 'int' },
  { key: 'keys.kekFile', kind: 'string', flag: '--kek-file' },
  { key: 'keys.serverKeyFile', kind: 'string', flag: '--server-key-file' },
  { key: 'keys.auditKeyFile', kind: 'string', flag: '--audit-key-file' },
  { key: 'audit.headFile', kind: 'string', flag: '--audit-head-file' },
];

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const KEYS = SETTINGS.map((s) => s.key);

export const envName = (key: string) =>
  'RUNE_' + key.replace(/\./g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();

export const DEFAULT_LISTEN = '127.0.0.1:7863';
export const defaultDataDir = () => join(homedir(), '.rune', 'runed');

export function defaults(): DaemonConfig {
  return {
    listen: DEFAULT_LISTEN,
    dataDir: defaultDataDir(),
    auth: {
      allowRemoteAdmin: false,
      failedAuthLimit: 20,
      failedAuthWindow: 60_000,
      failedAuthPerSecond: 200,
      tokenRetention: 7 * 86_400_000,
      sweepInterval: 60_000,
      oidcMaxTtl: 3_600_000,
    },
    tls: {},
    cors: { allowedOrigins: [] },
    log: { level: 'info' },
    limits: {
      bodyBytes: 1024 * 1024,
      policyBytes: 64 * 1024,
      policyRules: 1000,
      requestTimeout: 30_000,
      headersTimeout: 10_000,
      keepAliveTimeout: 5_000,
      maxConnections: 1024,
    },
    keys: {},
    audit: {},
  };
}

export class ConfigError extends Error {}

function convert(setting: Setting, value: unknown, source: string): unknown {
  const where = `${setting.key} (${source})`;
  switch (setting.kind) {
    case 'string':
      if (typeof value !== 'string' || value === '') throw new ConfigError(`${where} must be a non-empty string`);
      return value;
    case 'bool':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === '1') return true;
      if (value === 'false' || value === '0') return false;
      throw new ConfigError(`${where} must be true or false, not "${String(value)}"`);
    case 'int': {
      const n = typeof value === 'number' ? value : /^\d+$/.test(String(value)) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${where} must be a positive whole number`);
      return n;
    }
    case 'duration': {
      const ms = typeof value === 'string' ? parseDuration(value) : undefined;
      if (ms === undefined || ms <= 0) throw new ConfigError(`${where} must be a positive duration such as 720h or 90d, not "${String(value)}"`);
      if (ms > MAX_TTL_MS) throw new ConfigError(`${where} must be at most ${MAX_TTL_TEXT}, not "${String(value)}"`);
      return ms;
    }
    case 'list':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
      if (typeof value === 'string') return value.split(',').map((s) => s.trim()).filter(Boolean);
      throw new ConfigError(`${where} must be a list of strings`);
    case 'level':
      if (typeof value !== 'string' || !LEVELS.includes(value)) throw new ConfigError(`${where} must be one of ${LEVELS.join(', ')}`);
      return value;
  }
}

function assign(config: DaemonConfig, key: string, value: unknown): void {
  const parts = key.split('.');
  let target = config as unknown as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) target = target[part] as Record<string, unknown>;
  target[parts[parts.length - 1]!] = value;
}

const snakeToCamel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Flattens a YAML mapping to dotted keys, accepting snake_case (`allow_remote_admin`) as rune's docs write it. */
function flatten(value: unknown, prefix: string, out: Map<string, unknown>, file: string): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(`${file}: ${prefix || 'the document'} must be a mapping`);
  }
  for (const [rawKey, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${snakeToCamel(rawKey)}` : snakeToCamel(rawKey);
    if (KEYS.includes(key)) out.set(key, v);
    else if (KEYS.some((k) => k.startsWith(key + '.'))) flatten(v, key, out, file);
    else {
      const hint = suggest(key.toLowerCase(), KEYS.map((k) => k.toLowerCase()));
      const proper = hint && KEYS.find((k) => k.toLowerCase() === hint);
      throw new ConfigError(`${file}: unknown setting "${key}"${proper ? ` (did you mean "${proper}"?)` : ''}`);
    }
  }
}

export interface ParsedArgs {
  configFile?: string;
  values: Map<string, string | boolean>;
}

/** Reads runed's flags: the named ones above plus `--set key=value` for any setting. */
export function parseFlags(args: string[]): ParsedArgs {
  const values = new Map<string, string | boolean>();
  let configFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.includes('=') && arg.startsWith('--') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const next = () => {
      if (inline !== undefined) return inline;
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new ConfigError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--config') configFile = next();
    else if (flag === '--set') {
      const kv = next();
      const eq = kv.indexOf('=');
      if (eq < 1) throw new ConfigError(`--set takes key=value, e.g. --set auth.tokenMaxTtl=90d`);
      const key = kv.slice(0, eq);
      if (!KEYS.includes(key)) {
        const hint = suggest(key.toLowerCase(), KEYS.map((k) => k.toLowerCase()));
        throw new ConfigError(`--set: unknown setting "${key}"${hint ? ` (did you mean "${KEYS.find((k) => k.toLowerCase() === hint)}"?)` : ''}`);
      }
      values.set(key, kv.slice(eq + 1));
    } else {
      const setting = SETTINGS.find((s) => s.flag === flag);
      if (!setting) throw new ConfigError(`unknown flag ${flag} (see runed --help)`);
      values.set(setting.key, setting.kind === 'bool' && inline === undefined ? true : next());
    }
  }
  return configFile === undefined ? { values } : { configFile, values };
}

/** Defaults, then the YAML file, then RUNE_… environment, then flags (§6). */
export function loadConfig(args: string[], env: NodeJS.ProcessEnv = process.env): DaemonConfig {
  const flags = parseFlags(args);
  const config = defaults();
  const configFile = flags.configFile ?? env.RUNE_CONFIG_FILE;
  if (configFile) {
    let text: string;
    try {
      text = readFileSync(configFile, 'utf8');
    } catch (e) {
      throw new ConfigError(`cannot read config file ${configFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text) ?? {};
    } catch (e) {
      throw new ConfigError(`${configFile}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
    }
    const values = new Map<string, unknown>();
    flatten(doc, '', values, configFile);
    for (const [key, value] of values) {
      assign(config, key, convert(SETTINGS.find((s) => s.key === key)!, value, configFile));
    }
  }
  for (const setting of SETTINGS) {
    const value = env[envName(setting.key)];
    if (value !== undefined && value !== '') assign(config, setting.key, convert(setting, value, envName(setting.key)));
  }
  for (const [key, value] of flags.values) {
    const setting = SETTINGS.find((s) => s.key === key)!;
    assign(config, key, convert(setting, value, setting.flag ?? `--set ${key}`));
  }
  config.dataDir = resolve(config.dataDir);
  if (config.store === 'sqlite') delete config.store;
  if (config.store !== undefined) {
    try {
      parsePostgresUrl(config.store);
    } catch (e) {
      throw new ConfigError(`store: ${(e as Error).message.replace(/^store URL /, '')} (or "sqlite", the default)`);
    }
  }
  if (config.storePasswordFile) {
    if (config.store === undefined) throw new ConfigError('storePasswordFile is for a PostgreSQL store: set store to postgres://USER@HOST:PORT/DB too');
    config.storePasswordFile = resolve(config.storePasswordFile);
  }
  for (const k of ['kekFile', 'serverKeyFile', 'auditKeyFile'] as const) if (config.keys[k]) config.keys[k] = resolve(config.keys[k]);
  if (config.audit.headFile) config.audit.headFile = resolve(config.audit.headFile);
  parseListen(config.listen);
  const { tokenDefaultTtl, tokenMaxTtl } = config.auth;
  if (tokenDefaultTtl !== undefined && tokenMaxTtl !== undefined && tokenDefaultTtl > tokenMaxTtl) {
    throw new ConfigError('auth.tokenDefaultTtl must not be longer than auth.tokenMaxTtl');
  }
  // Node's timers hold at most 2^31-1 ms (24.8 days); a longer one fires after 1 ms, every 1 ms.
  const timers = { 'auth.sweepInterval': config.auth.sweepInterval, 'limits.requestTimeout': config.limits.requestTimeout, 'limits.headersTimeout': config.limits.headersTimeout, 'limits.keepAliveTimeout': config.limits.keepAliveTimeout };
  for (const [key, ms] of Object.entries(timers)) {
    if (ms > MAX_TIMER_MS) throw new ConfigError(`${key} must be at most 24d (a timer cannot wait longer), not ${formatDuration(ms)}`);
  }
  if (config.limits.headersTimeout > config.limits.requestTimeout) {
    const { headersTimeout, requestTimeout } = config.limits;
    throw new ConfigError(`limits.headersTimeout (${formatDuration(headersTimeout)}) must not be longer than limits.requestTimeout (${formatDuration(requestTimeout)}): set both`);
  }
  if (Boolean(config.tls.certFile) !== Boolean(config.tls.keyFile)) {
    throw new ConfigError('tls.certFile and tls.keyFile must be set together');
  }
  return config;
}

/** `host:port`, `[::1]:port` or `:port` (all interfaces). */
export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`listen "${listen}" must be host:port, e.g. 127.0.0.1:7863`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { host, port };
}

export const SETTINGS_HELP = SETTINGS.map((s) => `  ${s.key.padEnd(24)} ${envName(s.key).padEnd(30)} ${s.flag ?? ''}`).join('\n');
