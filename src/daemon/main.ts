import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { prepareDataDir } from './store/sqlite.js';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseListen, SETTINGS_HELP, type DaemonConfig } from './config.js';
import { KeyFileError, loadKeyFile, loadServerKey } from './crypto.js';
import { KekError, Keyring, rotateKek, SealError, unseal } from './kek.js';
import { BOOTSTRAPPED_KEY } from './routes/bootstrap.js';
import { buildDaemon } from './server.js';
import { AuditKeyError, type AuditHead } from './store/audit.js';
import { auditFilesIn, Store, type AuditFiles } from './store/index.js';
import { describeStore, openEngine, StoreOpenError } from './store/open.js';
import { ChangeFeed } from './store/changeFeed.js';
import { migrateArgs, migrateStoreCommand } from './migrateCommand.js';

export const ADDR_FILE = 'runed.addr';
const LOCK_FILE = 'runed.lock';
/** The actor of commands run on the host with filesystem access to the data dir. */
const HOST_ACTOR = { name: 'host', type: 'local' };

const HELP = `runed — the rune admin daemon

Usage:
  runed [serve] [flags]          start the daemon (default ${'127.0.0.1:7863'})
  runed reset-bootstrap [flags]  allow one more bootstrap (recovers a lost root token)
  runed audit verify [flags]     check the audit trail's keyed hash chain and head checkpoints;
                                 lists every broken event and how it knows; --expect-head ID:HASH
                                 (repeatable) also checks a head taken from the daemon's log
  runed kek rotate [flags]       re-wrap every registry secret under a new key-encryption key
  runed registry credentials NAME [flags]
                                 print a registry's docker auth config, for the host's runtime
  runed migrate-store --from sqlite:DIR --to postgres://USER@HOST:PORT/DB
                                 copy a stopped single-host store into an empty PostgreSQL
                                 database, then check counts and the audit chain
  runed --version

Flags:
  --config FILE              YAML config file (or RUNE_CONFIG_FILE)
  --listen HOST:PORT         address to listen on
  --data-dir DIR             where the keys (and the SQLite store) live (0700)
  --store postgres://USER@HOST:PORT/DB
                             keep the store in PostgreSQL (or RUNE_STORE, store: in the file);
                             the password from PGPASSWORD or --store-password-file, never the URL
  --allow-remote-admin       accept admin operations from non-loopback peers
  --token-default-ttl DUR    TTL of tokens created without one, e.g. 720h
  --token-max-ttl DUR        longest TTL a token may have, e.g. 90d
  --tls-cert-file FILE, --tls-key-file FILE
  --log-level LEVEL          fatal, error, warn, info, debug, trace, silent
  --kek-file FILE, --server-key-file FILE, --audit-key-file FILE, --audit-head-file FILE
                             keep keys (and the audit head checkpoints) outside the data dir
  --set KEY=VALUE            any setting below

Settings (config file key, environment variable, flag); precedence: file < environment < flags:
${SETTINGS_HELP}

Example:
  runed --data-dir /var/lib/runed --token-max-ttl 90d
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function fail(message: string, code = 2): never {
  process.stderr.write(`runed: ${message}\n`);
  process.exit(code);
}

/** The audit key and head checkpoint files: in the data dir unless configured elsewhere. */
function auditFiles(config: DaemonConfig): AuditFiles {
  const inDataDir = auditFilesIn(config.dataDir);
  return { keyFile: config.keys.auditKeyFile ?? inDataDir.keyFile, headFile: config.audit.headFile ?? inDataDir.headFile };
}

/** Where a connection to the store that dropped while idle is reported; the log, once runed has one. */
let reportLostConnection = (e: Error): void => void process.stderr.write(`runed: lost a connection to the store: ${e.message}\n`);

/**
 * Opens the configured store (SQLite in the data dir, or PostgreSQL) with the audit files
 * (`false`: unkeyed, for reading only), or stops with a clear message when it cannot.
 */
async function openStore(config: DaemonConfig, audit: AuditFiles | false = auditFiles(config)): Promise<Store> {
  try {
    return await Store.openOn(await openEngine(config, (e) => reportLostConnection(e)), audit);
  } catch (e) {
    if (e instanceof AuditKeyError || e instanceof KeyFileError || e instanceof StoreOpenError) fail(e.message, 1);
    throw e;
  }
}

const keyringFor = (config: DaemonConfig, store: Store, acceptHandOver = false) =>
  Keyring.open(config.dataDir, store, process.env, { kekFile: config.keys.kekFile, acceptHandOver });

class ServerKeyMismatch extends Error {}

/**
 * The store remembers a check value of the token-hash key it was first served with: a replica (or
 * a restore) with another server.key would refuse every token, so it refuses to start instead.
 */
async function checkServerKey(store: Store, serverKey: Buffer): Promise<void> {
  const check = createHmac('sha256', serverKey).update('runed server key check').digest('hex').slice(0, 32);
  const stored = await store.meta.setIfAbsent('server_key_check', check);
  if (stored !== check) {
    throw new ServerKeyMismatch(
      'this server.key is not the key the store\'s tokens were hashed with: every token would be refused. ' +
        'Give every replica the same key files (--server-key-file, --kek-file, --audit-key-file)',
    );
  }
}

/** The pid of the live runed holding the data dir's lock, if any. */
function lockHolder(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim());
  } catch {
    return undefined;
  }
  try {
    return pid > 0 && pid !== process.pid && process.kill(pid, 0) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** One runed per data dir: its caches assume it is the only writer of identities and tokens. */
function lockDataDir(dataDir: string): () => void {
  prepareDataDir(dataDir);
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = lockHolder(dataDir);
      if (pid !== undefined) fail(`another runed (pid ${pid}) is already using ${dataDir}`, 1);
      rmSync(file, { force: true }); // left by a runed that was killed
    }
  }
  fail(`cannot lock ${dataDir}`, 1);
}

async function serve(config: DaemonConfig): Promise<void> {
  const releaseLock = lockDataDir(config.dataDir);
  let store: Store;
  try {
    store = await Store.openOn(await openEngine(config, (e) => reportLostConnection(e)), auditFiles(config));
  } catch (e) {
    releaseLock();
    if (e instanceof AuditKeyError || e instanceof KeyFileError || e instanceof StoreOpenError) fail(e.message, 1);
    throw e;
  }
  let daemon: Awaited<ReturnType<typeof buildDaemon>>;
  let keyring: Keyring;
  try {
    const serverKey = loadServerKey(config.dataDir, config.keys.serverKeyFile);
    await checkServerKey(store, serverKey);
    keyring = await keyringFor(config, store, true);
    daemon = await buildDaemon(config, store, serverKey, { keyring });
  } catch (e) {
    await store.close();
    releaseLock();
    if (e instanceof KekError || e instanceof KeyFileError || e instanceof ServerKeyMismatch) fail(e.message, 1);
    throw e;
  }
  const { app, state } = daemon;
  // Each checkpointed audit head also goes to the log, a copy outside the data dir.
  store.audit.onCheckpoint = (head) => app.log.info({ auditHead: head }, 'audit head');
  store.audit.onCheckpointError = (err) => app.log.error({ err }, 'could not write the audit head checkpoint');
  reportLostConnection = (err) => app.log.warn({ err }, 'lost an idle connection to the store');
  const { host, port } = parseListen(config.listen);
  const addrFile = join(config.dataDir, ADDR_FILE);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    state.closing = true;
    app.log.info({ signal }, 'shutting down: finishing in-flight requests');
    try {
      await app.close();
      await daemon.flush(true);
    } finally {
      await store.close();
      rmSync(addrFile, { force: true });
      releaseLock();
    }
    app.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  if (store.engine.changes instanceof ChangeFeed) {
    // Listening for the other replicas' changes before serving: no request is answered blind.
    try {
      await store.engine.changes.start();
    } catch (e) {
      await store.close();
      releaseLock();
      fail(`cannot listen for changes on the store (${describeStore(config)}): ${(e as Error).message}`, 1);
    }
  }
  try {
    await app.listen({ host, port });
  } catch (e) {
    await store.close();
    releaseLock();
    fail(`cannot listen on ${config.listen}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const scheme = config.tls.certFile ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  writeFileSync(addrFile, url + '\n', { mode: 0o600 });
  const bootstrapped = Boolean(await store.getMeta(BOOTSTRAPPED_KEY));
  app.log.info({ url, dataDir: config.dataDir, store: describeStore(config), bootstrapped }, `runed listening on ${url}`);
  if (!bootstrapped) {
    app.log.info(`not bootstrapped yet: on this host run  curl -X POST ${url}/v1/bootstrap  (or rune admin bootstrap)`);
  }

  const timer = setInterval(() => {
    daemon.sweep().catch((err: unknown) => app.log.warn({ err }, 'sweep failed'));
  }, config.auth.sweepInterval);
  timer.unref();
  setInterval(() => void daemon.flush(), 1000).unref();
  // Takes a key an online rotation hands over (RUNE_KEK mode) within a second, without a request needing it.
  let kekProblem = '';
  setInterval(() => {
    keyring.get().then(
      () => (kekProblem = ''),
      (err: unknown) => {
        if ((err as Error).message !== kekProblem) app.log.error({ err }, 'registry secrets are unavailable');
        kekProblem = (err as Error).message;
      },
    );
  }, 1000).unref();
}

async function resetBootstrap(config: DaemonConfig): Promise<void> {
  const store = await openStore(config);
  try {
    const was = await store.getMeta(BOOTSTRAPPED_KEY);
    await store.transaction((tx) => tx.deleteMeta(BOOTSTRAPPED_KEY));
    await store.audit.append({ actor: HOST_ACTOR, action: 'reset-bootstrap', resource: 'tokens', outcome: 'success', message: 'bootstrap re-enabled on the host' });
    process.stdout.write(
      was
        ? `bootstrap re-enabled on ${config.dataDir}: the next POST /v1/bootstrap from this host mints a new root token.\n` +
            'Existing tokens stay valid; revoke the lost one once you are back in.\n'
        : `${config.dataDir} was not bootstrapped yet: nothing to reset.\n`,
    );
  } finally {
    await store.close();
  }
}

/** `--expect-head ID:HASH` (repeatable): a head taken from the daemon's log, outside the data dir. */
function takeExpectedHeads(args: string[]): { rest: string[]; heads: AuditHead[] } {
  const rest: string[] = [];
  const heads: AuditHead[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg !== '--expect-head' && !arg.startsWith('--expect-head=')) {
      rest.push(arg);
      continue;
    }
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
    const m = value === undefined ? null : /^(\d+):(\S+)$/.exec(value);
    if (!m) fail('--expect-head takes ID:HASH as logged in "auditHead", e.g. --expect-head \'730:h1$…\'');
    heads.push({ id: Number(m[1]), hash: m[2]! });
  }
  return { rest, heads };
}

async function auditVerify(config: DaemonConfig, expectedHeads: AuditHead[]): Promise<void> {
  // Read-only: no key is created, and a missing one is reported, not replaced.
  const store = await openStore(config, false);
  try {
    const { keyFile, headFile } = auditFiles(config);
    let key: Buffer | undefined;
    try {
      key = existsSync(keyFile) ? loadKeyFile(keyFile, false).key : undefined;
    } catch (e) {
      if (e instanceof KeyFileError) fail(e.message, 1);
      throw e;
    }
    const report = await store.audit.verify({ key, keyFile, headFile, expectedHeads });
    const warnings = report.warnings.map((w) => `warning: ${w}\n`).join('');
    if (report.ok) {
      process.stdout.write(`audit trail intact: ${report.events} event(s) verified\n${warnings}`);
      return;
    }
    const lines = report.breaks.map((b) => `  ${b.id !== undefined ? `event ${b.id}: ` : ''}${b.reasons.join('; ')}\n`).join('');
    process.stdout.write(`audit trail BROKEN: ${report.breaks.length} problem(s) in ${report.events} event(s)\n${lines}${warnings}`);
    process.exitCode = 1;
  } finally {
    await store.close();
  }
}

/** How long `kek rotate` waits for a running RUNE_KEK-mode daemon to take the new key (it polls every second). */
const HAND_OVER_WAIT_MS = 10_000;

async function kekRotate(config: DaemonConfig): Promise<void> {
  const store = await openStore(config);
  try {
    const keyring = await keyringFor(config, store);
    if (keyring.fromEnv && !process.env.RUNE_NEW_KEK) {
      fail('RUNE_KEK is set: give the new key in RUNE_NEW_KEK (32 bytes, base64), then set RUNE_KEK to it for future starts', 2);
    }
    const daemonPid = lockHolder(config.dataDir);
    const result = await rotateKek(store, keyring, process.env.RUNE_NEW_KEK, daemonPid !== undefined);
    await store.audit.append({ actor: HOST_ACTOR, action: 'rotate', resource: 'registries', outcome: 'success', message: `key-encryption key rotated to ${result.kekId}; ${result.rewrapped} data key(s) re-wrapped` });
    let handOver = '';
    if (result.pending) {
      const deadline = Date.now() + HAND_OVER_WAIT_MS;
      while (existsSync(result.pending) && Date.now() < deadline) await sleep(50);
      if (existsSync(result.pending)) {
        rmSync(result.pending, { force: true });
        handOver = `The running runed (pid ${daemonPid}) did not take the new key: it answers 503 to registry secret operations until it restarts with the new RUNE_KEK.\n`;
      } else {
        handOver = `The running runed (pid ${daemonPid}) took the new key; no copy of it is left on disk.\n`;
      }
    }
    process.stdout.write(
      `re-wrapped ${result.rewrapped} data key(s) under the new key-encryption key (id ${result.kekId}).\n` +
        handOver +
        (keyring.fromEnv ? 'Set RUNE_KEK to the value of RUNE_NEW_KEK before runed next starts.\n' : `The new key is in ${keyring.kekFile}; the old one opens nothing now.\n`),
    );
  } catch (e) {
    if (e instanceof KekError || e instanceof SealError) fail(e.message, 1);
    throw e;
  } finally {
    await store.close();
  }
}

async function registryCredentials(config: DaemonConfig, name: string | undefined): Promise<void> {
  if (!name) fail('usage: runed registry credentials NAME [--data-dir DIR] [--store URL]');
  const store = await openStore(config);
  try {
    const row = await store.registries.get(name);
    if (!row) fail(`registry "${name}" not found`, 1);
    if (row.type === 'ecr') {
      process.stdout.write(JSON.stringify({ type: 'ecr', server: row.server, region: row.region, note: "credentials come from the host's AWS environment" }, null, 2) + '\n');
      return;
    }
    const password = unseal(await (await keyringFor(config, store)).get(), row.name, { sealed: row.sealed!, wrappedKey: row.wrapped_key! });
    const auth = Buffer.from(`${row.username}:${password}`).toString('base64');
    process.stdout.write(JSON.stringify({ auths: { [row.server]: { auth } } }, null, 2) + '\n');
    await store.audit.append({ actor: HOST_ACTOR, action: 'read-credentials', resource: 'registries', ref: row.name, outcome: 'success' });
  } catch (e) {
    if (e instanceof KekError) fail(e.message, 1);
    if (e instanceof SealError) fail(`cannot open the password of registry "${name}": ${e.message}`, 1);
    throw e;
  } finally {
    await store.close();
  }
}

export async function main(argv: string[]): Promise<void> {
  process.umask(0o077);
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(HELP);
    return;
  }
  if (first === '--version' || first === 'version') {
    process.stdout.write(`runed ${version()}\n`);
    return;
  }
  const command = first === undefined || first.startsWith('-') ? 'serve' : first;
  let args = command === first ? rest : argv;
  // Two-word commands and their positional argument come before the flags.
  let sub: string | undefined;
  let operand: string | undefined;
  if (['audit', 'kek', 'registry'].includes(command)) {
    sub = args[0];
    args = args.slice(1);
    if (command === 'registry' && args[0] !== undefined && !args[0].startsWith('-')) {
      operand = args[0];
      args = args.slice(1);
    }
  }
  if (command === 'migrate-store') {
    try {
      args = migrateArgs(args);
    } catch (e) {
      fail((e as Error).message);
    }
  }
  let expectedHeads: AuditHead[] = [];
  if (command === 'audit') ({ rest: args, heads: expectedHeads } = takeExpectedHeads(args));
  let config: DaemonConfig;
  try {
    config = loadConfig(args);
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
  switch (command) {
    case 'serve':
      await serve(config);
      return;
    case 'reset-bootstrap':
      await resetBootstrap(config);
      return;
    case 'audit':
      if (sub !== 'verify') fail('usage: runed audit verify [--data-dir DIR] [--store URL] [--expect-head ID:HASH]');
      await auditVerify(config, expectedHeads);
      return;
    case 'kek':
      if (sub !== 'rotate') fail('usage: runed kek rotate [--data-dir DIR] [--store URL]');
      await kekRotate(config);
      return;
    case 'registry':
      if (sub !== 'credentials') fail('usage: runed registry credentials NAME [--data-dir DIR] [--store URL]');
      await registryCredentials(config, operand);
      return;
    case 'migrate-store':
      await migrateStoreCommand(config, { auditFiles: auditFiles(config), runningDaemon: lockHolder(config.dataDir), fail, write: (t) => process.stdout.write(t) });
      return;
    default:
      fail(`unknown command "${command}" (see runed --help)`);
  }
}
