import { join } from 'node:path';
import { BUILTIN_POLICIES, SEEDED_NAMESPACES } from '../../core/builtins.js';
import { AuditLog } from './audit.js';
import { openDb, type Db } from './db.js';
import { Namespaces } from './namespaces.js';
import { Policies } from './policies.js';
import { Registries } from './registries.js';
import { Subjects } from './subjects.js';
import { Tokens } from './tokens.js';
import { Trusts } from './trusts.js';
import { Reach } from './reach.js';

export const AUDIT_KEY_FILE = 'audit.key';
export const AUDIT_HEAD_FILE = 'audit.head';

export interface AuditFiles {
  keyFile: string;
  headFile: string;
}

export const auditFilesIn = (dataDir: string): AuditFiles => ({ keyFile: join(dataDir, AUDIT_KEY_FILE), headFile: join(dataDir, AUDIT_HEAD_FILE) });

export class Store {
  readonly subjects: Subjects;
  readonly policies: Policies;
  readonly tokens: Tokens;
  readonly namespaces: Namespaces;
  readonly audit: AuditLog;
  readonly registries: Registries;
  readonly trusts: Trusts;
  readonly reach: Reach;

  constructor(readonly db: Db) {
    this.subjects = new Subjects(db);
    this.policies = new Policies(db);
    this.tokens = new Tokens(db);
    this.namespaces = new Namespaces(db);
    this.audit = new AuditLog(db);
    this.registries = new Registries(db);
    this.trusts = new Trusts(db);
    this.reach = new Reach(db);
  }

  /**
   * Opens the store in `dataDir`. `audit` names the audit key and head checkpoint files (default:
   * in the data dir); `false` opens it unkeyed, for reading only (audit verify).
   */
  static open(dataDir: string, audit: AuditFiles | false = auditFilesIn(dataDir)): Store {
    const store = new Store(openDb(dataDir));
    try {
      store.seed();
      if (audit) store.audit.attach(audit.keyFile, audit.headFile);
    } catch (e) {
      store.close();
      throw e;
    }
    return store;
  }

  /** Built-in policies and namespaces are written at every start, so a tampered built-in is restored. */
  seed(now = Date.now()): void {
    this.transaction(() => {
      for (const policy of BUILTIN_POLICIES) this.policies.seedBuiltin(policy, now);
      for (const ns of SEEDED_NAMESPACES) this.namespaces.insert(ns, now);
    });
  }

  /** Bumped by every write transaction; caches of stored state compare it to know they are stale. */
  generation = 0;

  /** Runs `fn` in one IMMEDIATE transaction: all of its writes land together or not at all. */
  transaction<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } finally {
      this.generation++;
      // After the outermost commit (or rollback) only: the checkpoint names committed events alone.
      if (!this.db.inTransaction) this.audit.flushCheckpoint();
    }
  }

  /** lastUsedAt of many tokens in one commit; it does not change what authentication sees. */
  touchTokens(batch: [id: string, at: number][]): void {
    this.db.transaction(() => {
      for (const [id, at] of batch) this.tokens.touch(id, at);
    }).immediate();
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?').get(key))?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  deleteMeta(key: string): void {
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(key);
  }

  ping(): boolean {
    return this.db.prepare('SELECT 1 AS ok').get() !== undefined;
  }

  /** Folds the write-ahead log back into the database file, so the next start does not pay for it. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // another process holds the database; the next writer checkpoints instead
    }
    this.db.close();
    this.audit.close();
  }
}
