import { join } from 'node:path';
import { BUILTIN_POLICIES, SEEDED_NAMESPACES } from '../../core/builtins.js';
import { AuditChain, AuditLog } from './audit.js';
import { Meta } from './meta.js';
import { Namespaces } from './namespaces.js';
import { Policies, RuleCache } from './policies.js';
import { Registries } from './registries.js';
import type { Engine, Sql } from './sql.js';
import { SqliteEngine } from './sqlite.js';
import { Subjects } from './subjects.js';
import { TokenSelection } from './tokenSelect.js';
import { Tokens } from './tokens.js';
import { Trusts } from './trusts.js';
import { Reach } from './reach.js';

export type { Engine, Sql } from './sql.js';

export const AUDIT_KEY_FILE = 'audit.key';
export const AUDIT_HEAD_FILE = 'audit.head';

export interface AuditFiles {
  keyFile: string;
  headFile: string;
}

export const auditFilesIn = (dataDir: string): AuditFiles => ({ keyFile: join(dataDir, AUDIT_KEY_FILE), headFile: join(dataDir, AUDIT_HEAD_FILE) });

/** What the store and every transaction view of it share. */
interface Shared {
  generation: number;
  chain: AuditChain;
  rules: RuleCache;
}

/**
 * The repositories over one engine. `transaction(async (tx) => …)` passes a view of the store
 * whose repositories run on the transaction; inside it, only `tx` may be used.
 */
export class Store {
  readonly subjects: Subjects;
  readonly policies: Policies;
  readonly tokens: Tokens;
  /** The tokens a selector matches, and their bulk revoke / disable. */
  readonly tokenSelection: TokenSelection;
  readonly namespaces: Namespaces;
  readonly audit: AuditLog;
  readonly registries: Registries;
  readonly trusts: Trusts;
  readonly meta: Meta;
  readonly reach: Reach;
  private readonly shared: Shared;

  /** `sql`: the engine itself, or (for a transaction's view) the transaction. */
  constructor(
    readonly engine: Engine,
    private readonly sql: Sql = engine,
    shared?: Shared,
  ) {
    this.shared = shared ?? { generation: 0, chain: new AuditChain(), rules: new RuleCache() };
    this.subjects = new Subjects(sql);
    this.policies = new Policies(sql, this.shared.rules);
    this.tokens = new Tokens(sql);
    this.tokenSelection = new TokenSelection(sql);
    this.namespaces = new Namespaces(sql);
    this.audit = new AuditLog(sql, this.shared.chain, this.inTransaction ? null : engine);
    this.registries = new Registries(sql);
    this.trusts = new Trusts(sql);
    this.meta = new Meta(sql);
    this.reach = new Reach(sql);
  }

  /** True for a transaction's view. */
  get inTransaction(): boolean {
    return this.sql !== this.engine;
  }

  /** A view whose repositories run on `sql` (a transaction of this store's engine). */
  viewOn(sql: Sql): Store {
    return new Store(this.engine, sql, this.shared);
  }

  /**
   * Opens the SQLite store in `dataDir`. `audit` names the audit key and head checkpoint files
   * (default: in the data dir); `false` opens it unkeyed, for reading only (audit verify).
   */
  static async open(dataDir: string, audit: AuditFiles | false = auditFilesIn(dataDir)): Promise<Store> {
    return Store.openOn(SqliteEngine.open(dataDir), audit);
  }

  /** The store over any engine: seeds the built-ins and keys the audit chain. */
  static async openOn(engine: Engine, audit: AuditFiles | false): Promise<Store> {
    const store = new Store(engine);
    try {
      await store.seed();
      if (audit) await store.audit.attach(audit.keyFile, audit.headFile);
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  /** Built-in policies and namespaces are written at every start, so a tampered built-in is restored. */
  async seed(now = Date.now()): Promise<void> {
    await this.transaction(async (tx) => {
      for (const policy of BUILTIN_POLICIES) await tx.policies.seedBuiltin(policy, now);
      for (const ns of SEEDED_NAMESPACES) await tx.namespaces.insert(ns, now);
    });
  }

  /**
   * Moves with every write transaction, here or (on a shared engine) on another replica; caches of
   * stored state compare it to know they are stale.
   */
  get generation(): number {
    return this.shared.generation + (this.engine.changes?.generation ?? 0);
  }

  /** False while another replica's change could go unseen: caches must not answer then. */
  get cacheable(): boolean {
    return this.engine.changes?.trusted ?? true;
  }

  /** False while the shared database is known to be out of reach: answer 503, never from memory. */
  get available(): boolean {
    return this.engine.changes?.reachable ?? true;
  }

  /**
   * Runs `fn` in one transaction: all of its writes land together or not at all. Inside a
   * transaction it just runs in it. Appended audit events are checkpointed after the commit.
   */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    let view: Store | undefined;
    try {
      const changes = this.engine.changes;
      const result = await this.engine.transaction(async (sql) => {
        const done = await fn((view = this.viewOn(sql)));
        await changes?.record(sql);
        return done;
      });
      // After the commit only: the checkpoint file names committed events alone.
      const appended = view?.audit.appended;
      if (appended) this.shared.chain.checkpoint(appended);
      return result;
    } finally {
      this.shared.generation++;
      this.engine.changes?.localChange();
    }
  }

  /** lastUsedAt of many tokens in one commit; it does not change what authentication sees. */
  async touchTokens(batch: [id: string, at: number][]): Promise<void> {
    await this.engine.transaction(async (sql) => {
      const tokens = new Tokens(sql);
      for (const [id, at] of batch) await tokens.touch(id, at);
    });
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.meta.get(key);
  }

  setMeta(key: string, value: string): Promise<void> {
    return this.meta.set(key, value);
  }

  deleteMeta(key: string): Promise<void> {
    return this.meta.delete(key);
  }

  async ping(): Promise<boolean> {
    return (await this.sql.get('SELECT 1 AS ok')) !== undefined;
  }

  async close(): Promise<void> {
    await this.engine.close();
    this.shared.chain.close();
  }
}
