import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonConfig } from './config.js';
import { KeyFileError, loadKeyFile, SERVER_KEY_FILE } from './crypto.js';
import { KEK_FILE } from './kek.js';
import { Store, type AuditFiles } from './store/index.js';
import { migrateStore } from './store/migrateStore.js';
import { describeStore, openEngine, StoreOpenError } from './store/open.js';
import { isPostgresUrl } from './store/postgresUrl.js';
import { DB_FILE, SqliteEngine } from './store/sqlite.js';

export const MIGRATE_USAGE = 'usage: runed migrate-store --from sqlite:DIR --to postgres://USER@HOST:PORT/DB (the password from PGPASSWORD or --store-password-file)';

/**
 * `--from sqlite:DIR --to postgres://…` become the data dir and the store setting, so that keys,
 * the password file and the rest are read as for any other command. Throws a usage message.
 */
export function migrateArgs(args: string[]): string[] {
  const out: string[] = [];
  let from: string | undefined;
  let to: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag !== '--from' && flag !== '--to') {
      out.push(arg);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new Error(`${flag} needs a value; ${MIGRATE_USAGE}`);
    if (flag === '--from') from = value;
    else to = value;
  }
  if (from === undefined || to === undefined) throw new Error(`both --from and --to are needed; ${MIGRATE_USAGE}`);
  if (!from.startsWith('sqlite:') || from.length === 'sqlite:'.length) throw new Error(`--from takes sqlite:DIR, the data dir of a single-host runed (got "${from}")`);
  if (!isPostgresUrl(to)) throw new Error('--to takes a postgres://USER@HOST:PORT/DB URL');
  return [...out, '--data-dir', from.slice('sqlite:'.length), '--store', to];
}

export interface MigrateDeps {
  auditFiles: AuditFiles;
  /** The pid of a runed serving the data dir, if one does. */
  runningDaemon: number | undefined;
  fail: (message: string, code?: number) => never;
  write: (text: string) => void;
}

/** Copies a stopped single-host store into an empty PostgreSQL database, then verifies the copy's audit chain with the key. */
export async function migrateStoreCommand(config: DaemonConfig, deps: MigrateDeps): Promise<void> {
  const { fail, write } = deps;
  if (!existsSync(join(config.dataDir, DB_FILE))) fail(`no runed store in ${config.dataDir} (no ${DB_FILE})`, 1);
  if (deps.runningDaemon !== undefined) fail(`runed (pid ${deps.runningDaemon}) is serving ${config.dataDir}: stop it first, so that the copy is of a quiet store`, 1);
  let key: Buffer | undefined;
  try {
    key = existsSync(deps.auditFiles.keyFile) ? loadKeyFile(deps.auditFiles.keyFile, false).key : undefined;
  } catch (e) {
    if (e instanceof KeyFileError) fail(e.message, 1);
    throw e;
  }
  const from = SqliteEngine.open(config.dataDir);
  let to;
  try {
    to = await openEngine(config);
  } catch (e) {
    await from.close();
    if (e instanceof StoreOpenError) fail(e.message, 1);
    throw e;
  }
  try {
    write(`copying sqlite ${config.dataDir} to ${describeStore(config)}\n`);
    const report = await migrateStore(from, to, (table, rows) => write(`  ${table.padEnd(17)} ${rows}\n`)).catch((e: unknown) => fail((e as Error).message, 1));
    const verify = await new Store(to).audit.verify({ key, keyFile: deps.auditFiles.keyFile, headFile: deps.auditFiles.headFile });
    if (!verify.ok) {
      write(`the copy's audit chain does not verify: ${verify.breaks.map((b) => `${b.id !== undefined ? `event ${b.id}: ` : ''}${b.reasons.join('; ')}`).join(' | ')}\n`);
      process.exitCode = 1;
      return;
    }
    const head = report.auditHead ? ` (head ${report.auditHead.id}:${report.auditHead.hash})` : '';
    write(
      `copied in ${(report.ms / 1000).toFixed(1)} s; every table counted the same on both sides; the audit chain verifies: ${verify.events} event(s)${head}\n` +
        `Start each replica with --store ${config.store} and this store's keys (the same files on every replica):\n` +
        `  --server-key-file ${config.keys.serverKeyFile ?? join(config.dataDir, SERVER_KEY_FILE)} --kek-file ${config.keys.kekFile ?? join(config.dataDir, KEK_FILE)} --audit-key-file ${deps.auditFiles.keyFile}\n`,
    );
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}
