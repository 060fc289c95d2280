import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuneClient } from '../api/client.js';
import { ApiError } from '../api/errors.js';
import { contextToken, ContextStore } from '../config/contexts.js';
import { runeHome } from '../config/paths.js';
import { writeSecretFile } from '../config/secretFile.js';

const RUNED = fileURLToPath(new URL('../../bin/runed', import.meta.url));
const CONTEXT = 'local';
const say = (line: string) => process.stderr.write(`rune: ${line}\n`);

async function healthy(server: string): Promise<boolean> {
  try {
    const res = await fetch(`http://${server}/healthz`, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts runed in the background on the data dir under ~/.rune, logging to ~/.rune/runed.log. */
async function startRuned(server: string, dataDir: string, logFile: string): Promise<void> {
  const log = openSync(logFile, 'a', 0o600);
  const child = spawn(process.execPath, [RUNED, '--listen', server, '--data-dir', dataDir], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (await healthy(server)) return;
    if (exited !== null) throw new Error(`runed exited (status ${exited}) before answering: see ${logFile}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`runed did not answer on ${server} within 15s: see ${logFile}`);
}

/**
 * `npm start`: makes sure a local runed answers (starting one if needed), that the context
 * `local` holds a working token (bootstrapping a fresh daemon once), then opens the TUI.
 */
export async function quickstart(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const home = runeHome();
  if (!existsSync(home)) mkdirSync(home, { recursive: true, mode: 0o700 });
  const server = env.RUNE_LISTEN || '127.0.0.1:7863';
  const dataDir = join(home, 'runed');
  const logFile = join(home, 'runed.log');
  const tokenFile = join(home, `${CONTEXT}.token`);

  if (await healthy(server)) say(`runed answers on ${server}`);
  else {
    say(`starting runed on ${server} (data in ${dataDir}, log in ${logFile})`);
    await startRuned(server, dataDir, logFile);
  }

  const store = new ContextStore();
  const existing = store.get(CONTEXT);
  let ready = false;
  if (existing) {
    try {
      const token = contextToken(existing, CONTEXT);
      if (token) {
        await new RuneClient({ server: existing.server, token }).whoami();
        ready = true;
      }
    } catch {
      ready = false;
    }
  }
  if (!ready) {
    try {
      const created = await new RuneClient({ server }).bootstrap();
      // Its own file: a root token left by an earlier quickstart of another data dir is replaced.
      writeSecretFile(tokenFile, created.secret, { replace: true });
      store.set(CONTEXT, { server, 'token-file': tokenFile, namespace: 'default' });
      say(`bootstrapped: root token saved to ${tokenFile} (0600), context "${CONTEXT}" created`);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'failed_precondition') {
        say(`runed on ${server} is already bootstrapped and context "${CONTEXT}" has no working token.`);
        say(`log in with: rune login ${CONTEXT} --server ${server} --token-file FILE`);
        say(`or, on this host, recover: runed reset-bootstrap --data-dir ${dataDir}  and run npm start again`);
        return 1;
      }
      throw e;
    }
  }
  store.use(CONTEXT);
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    say(`ready: context "${CONTEXT}" is current. Open the UI with "rune" on a terminal, or use "rune admin --help".`);
    return 0;
  }
  const { runTui } = await import('../app/run.js');
  return runTui();
}
