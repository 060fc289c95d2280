import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseListen, SETTINGS_HELP, type DaemonConfig } from './config.js';
import { loadServerKey } from './crypto.js';
import { BOOTSTRAPPED_KEY } from './routes/bootstrap.js';
import { buildDaemon } from './server.js';
import { Store } from './store/index.js';

export const ADDR_FILE = 'runed.addr';

const HELP = `runed — the rune admin daemon

Usage:
  runed [serve] [flags]          start the daemon (default ${'127.0.0.1:7863'})
  runed reset-bootstrap [flags]  allow one more bootstrap (recovers a lost root token)
  runed --version

Flags:
  --config FILE              YAML config file (or RUNE_CONFIG_FILE)
  --listen HOST:PORT         address to listen on
  --data-dir DIR             where the store and keys live (0700)
  --allow-remote-admin       accept admin operations from non-loopback peers
  --token-default-ttl DUR    TTL of tokens created without one, e.g. 720h
  --token-max-ttl DUR        longest TTL a token may have, e.g. 90d
  --tls-cert-file FILE, --tls-key-file FILE
  --log-level LEVEL          fatal, error, warn, info, debug, trace, silent
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

async function serve(config: DaemonConfig): Promise<void> {
  const store = Store.open(config.dataDir);
  const serverKey = loadServerKey(config.dataDir);
  const daemon = buildDaemon(config, store, serverKey);
  const { app, state } = daemon;
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
    } finally {
      store.close();
      rmSync(addrFile, { force: true });
    }
    app.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));

  try {
    await app.listen({ host, port });
  } catch (e) {
    store.close();
    fail(`cannot listen on ${config.listen}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1);
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const scheme = config.tls.certFile ? 'https' : 'http';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  writeFileSync(addrFile, url + '\n', { mode: 0o600 });
  const bootstrapped = Boolean(store.getMeta(BOOTSTRAPPED_KEY));
  app.log.info({ url, dataDir: config.dataDir, bootstrapped }, `runed listening on ${url}`);
  if (!bootstrapped) {
    app.log.info(`not bootstrapped yet: on this host run  curl -X POST ${url}/v1/bootstrap  (or rune admin bootstrap)`);
  }

  const timer = setInterval(() => {
    try {
      daemon.sweep();
    } catch (err) {
      app.log.warn({ err }, 'sweep failed');
    }
  }, config.auth.sweepInterval);
  timer.unref();
}

function resetBootstrap(config: DaemonConfig): void {
  const store = Store.open(config.dataDir);
  try {
    const was = store.getMeta(BOOTSTRAPPED_KEY);
    store.transaction(() => store.deleteMeta(BOOTSTRAPPED_KEY));
    // Until the audit table exists the daemon log is the audit trail; this goes to stderr as one JSON line.
    process.stderr.write(
      JSON.stringify({ time: Date.now(), audit: true, action: 'reset-bootstrap', resource: 'tokens', outcome: 'success', actor: { name: 'host', type: 'local' } }) + '\n',
    );
    process.stdout.write(
      was
        ? `bootstrap re-enabled on ${config.dataDir}: the next POST /v1/bootstrap from this host mints a new root token.\n` +
            'Existing tokens stay valid; revoke the lost one once you are back in.\n'
        : `${config.dataDir} was not bootstrapped yet: nothing to reset.\n`,
    );
  } finally {
    store.close();
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
  const args = command === first ? rest : argv;
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
      resetBootstrap(config);
      return;
    default:
      fail(`unknown command "${command}" (see runed --help)`);
  }
}
