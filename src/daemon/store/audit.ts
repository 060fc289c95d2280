import { createHash, createHmac } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { loadKeyFile } from '../crypto.js';
import { likeOp } from './dialect.js';
import { columnList, type Dialect, type Engine, type Sql } from './sql.js';
import { cursorNumber, likePattern, pageOf, type Page } from '../paging.js';

import type { AuditRecord, Outcome } from '../../core/wire.js';

export type { AuditRecord, Outcome };

/** What a caller records; the log adds id, time and the hash chain. */
export type AuditEvent = Omit<AuditRecord, 'id' | 'time' | 'message' | 'prevHash' | 'hash'> & { message?: string };

interface AuditRow {
  id: number;
  time: number;
  actor_name: string | null;
  actor_type: string | null;
  token_id: string | null;
  action: string;
  resource: string;
  ref: string | null;
  namespace: string | null;
  outcome: Outcome;
  message: string;
  remote_addr: string | null;
  prev_hash: string;
  hash: string;
}

const COLUMNS = columnList<AuditRow>({
  id: true,
  time: true,
  actor_name: true,
  actor_type: true,
  token_id: true,
  action: true,
  resource: true,
  ref: true,
  namespace: true,
  outcome: true,
  message: true,
  remote_addr: true,
  prev_hash: true,
  hash: true,
});

/** The advisory lock key (PostgreSQL) that serialises audit appends across replicas. */
export const AUDIT_CHAIN_LOCK = 0x72756e65a;

export const GENESIS_HASH = '0'.repeat(64);
/** Prefix of a keyed hash: HMAC-SHA-256 under the audit key. Unprefixed 64-hex hashes are the unkeyed SHA-256 of older runeds. */
export const KEYED_PREFIX = 'h1$';

const auditMatch = (dialect: Dialect) => `(${['actor_name', 'action', 'resource', 'ref', 'namespace', 'message'].map((c) => `COALESCE(${c}, '') ${likeOp(dialect)} @like ESCAPE '\\'`).join(' OR ')})`;
// Lone surrogates (and NUL, which PostgreSQL's text cannot hold) become U+FFFD, on either engine.
const NOT_STORABLE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\u0000/g;

/** A lone surrogate does not survive SQLite's UTF-8, so it is stored (and hashed) as U+FFFD. */
export const wellFormed = (s: string): string => s.replace(NOT_STORABLE, '\uFFFD');

const chainFields = (row: Omit<AuditRow, 'id' | 'hash'>) =>
  JSON.stringify([row.prev_hash, row.time, row.actor_name, row.actor_type, row.token_id, row.action, row.resource, row.ref, row.namespace, row.outcome, row.message, row.remote_addr]);

/** The unkeyed hash of events written before the chain was keyed: SHA-256 over the previous hash and the fields. */
function legacyHashOf(row: Omit<AuditRow, 'id' | 'hash'>): string {
  return createHash('sha256').update(chainFields(row)).digest('hex');
}

/** The keyed hash: HMAC-SHA-256 under the audit key, so the chain cannot be recomputed without it. */
function keyedHashOf(key: Buffer, row: Omit<AuditRow, 'id' | 'hash'>): string {
  return KEYED_PREFIX + createHmac('sha256', key).update(chainFields(row)).digest('hex');
}

function toRecord(row: AuditRow): AuditRecord {
  const r: AuditRecord = {
    id: row.id,
    time: new Date(row.time).toISOString(),
    action: row.action,
    resource: row.resource,
    outcome: row.outcome,
    message: row.message,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
  if (row.actor_name !== null) r.actor = { name: row.actor_name, type: row.actor_type ?? '', ...(row.token_id ? { tokenId: row.token_id } : {}) };
  if (row.ref !== null) r.ref = row.ref;
  if (row.namespace !== null) r.namespace = row.namespace;
  if (row.remote_addr !== null) r.remoteAddr = row.remote_addr;
  return r;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  outcome?: Outcome;
  /** A case-insensitive substring of the actor, action, resource, ref, namespace or message. */
  search?: string;
  resource?: string;
  since?: number;
}

/** The audit key is missing or is not the one the trail was keyed with: the daemon must not start. */
export class AuditKeyError extends Error {}

export interface AuditHead {
  id: number;
  hash: string;
}

/** One broken event (or, without an id, a problem with the chain as a whole) and how verify knows. */
export interface AuditBreak {
  id?: number;
  reasons: string[];
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  breaks: AuditBreak[];
  warnings: string[];
}

export interface VerifyKeys {
  /** The audit key; undefined when its file does not exist. */
  key: Buffer | undefined;
  keyFile: string;
  headFile: string;
  /** Heads known from elsewhere (the daemon's log): each must still be in the chain, unchanged. */
  expectedHeads?: AuditHead[];
}

const HEAD_FILE_HEADER = '# runed audit head checkpoints, append-only: "<event id> <hash>" per committed head; the first line is where the keyed chain starts';

interface Checkpoints {
  exists: boolean;
  /** The first checkpoint: the head when the chain was keyed. Events after it must carry keyed hashes. */
  marker?: AuditHead;
  lines: (AuditHead & { line: number })[];
  recreated: string[];
  malformed: number[];
}

function readCheckpoints(file: string): Checkpoints {
  if (!existsSync(file)) return { exists: false, lines: [], recreated: [], malformed: [] };
  const result: Checkpoints = { exists: true, lines: [], recreated: [], malformed: [] };
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    if (text === '') return;
    if (text.startsWith('# recreated ')) result.recreated.push(text.slice(12).split(':', 1)[0]!);
    if (text.startsWith('#')) return;
    const m = /^(\d+) (\S+)$/.exec(text);
    if (!m) return void result.malformed.push(i + 1);
    const entry = { id: Number(m[1]), hash: m[2]!, line: i + 1 };
    result.marker ??= entry;
    result.lines.push(entry);
  });
  return result;
}

/**
 * What the store and its transaction views share about the chain: the key, the head checkpoint
 * file and the last head written to it.
 */
export class AuditChain {
  key: Buffer | undefined;
  private headFd: number | undefined;
  private lastCheckpointId = -1;
  /** Told every checkpointed head (the daemon logs it, a copy of the head outside the data dir). */
  onCheckpoint: (head: AuditHead) => void = () => {};
  /** A checkpoint that cannot be written after its commit is reported here, never thrown at a caller whose change is done. */
  onCheckpointError: (err: unknown) => void = (err) => process.stderr.write(`runed: could not write the audit head checkpoint: ${String(err)}\n`);

  /** Opens the head checkpoint file, starting it at `head` when it is new, and loads (or creates) the key. */
  attach(keyFile: string, headFile: string, head: AuditHead | undefined): void {
    const keyExisted = existsSync(keyFile);
    if (!keyExisted && head?.hash.startsWith(KEYED_PREFIX)) {
      throw new AuditKeyError(`the audit key ${keyFile} is missing, but the audit trail is keyed with it: restore the file (a new key would leave every event unverifiable)`);
    }
    const cannot = (e: unknown) => new AuditKeyError(`cannot open the audit head checkpoint file ${headFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    try {
      const fd = openSync(headFile, 'wx', 0o600);
      // With no key yet the keyed chain starts here; a key without its file means the file was lost, which verify reports.
      const header = keyExisted ? `# recreated ${new Date().toISOString()}: the previous checkpoint file was missing` : HEAD_FILE_HEADER;
      writeSync(fd, `${header}\n${head?.id ?? 0} ${head?.hash ?? GENESIS_HASH}\n`);
      fsyncSync(fd);
      closeSync(fd);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(e);
    }
    try {
      this.headFd = openSync(headFile, 'a', 0o600);
    } catch (e) {
      throw cannot(e);
    }
    // The key after the file: a start that fails on the file leaves no key behind to make the next start look like a lost file.
    this.key = loadKeyFile(keyFile).key;
  }

  close(): void {
    if (this.headFd !== undefined) closeSync(this.headFd);
    this.headFd = undefined;
  }

  /** One line per committed head, fsync'd: the file is never ahead of the database, at most one commit behind. */
  checkpoint(head: AuditHead): void {
    if (head.id <= this.lastCheckpointId || this.headFd === undefined) return;
    try {
      writeSync(this.headFd, `${head.id} ${head.hash}\n`);
      fdatasyncSync(this.headFd);
      this.lastCheckpointId = head.id;
    } catch (err) {
      return this.onCheckpointError(err);
    }
    this.onCheckpoint(head);
  }
}

export class AuditLog {
  /** In a transaction's view: the newest event appended in it, checkpointed once the transaction commits. */
  appended: AuditHead | undefined;

  /** `engine`: set on the store itself (an append is its own transaction), null in a transaction's view. */
  constructor(
    private readonly sql: Sql,
    private readonly chain: AuditChain,
    private readonly engine: Engine | null,
  ) {}

  get onCheckpoint(): (head: AuditHead) => void {
    return this.chain.onCheckpoint;
  }

  set onCheckpoint(fn: (head: AuditHead) => void) {
    this.chain.onCheckpoint = fn;
  }

  get onCheckpointError(): (err: unknown) => void {
    return this.chain.onCheckpointError;
  }

  set onCheckpointError(fn: (err: unknown) => void) {
    this.chain.onCheckpointError = fn;
  }

  /** The newest event, or undefined for an empty trail. */
  head(): Promise<AuditHead | undefined> {
    return this.sql.get<AuditHead>('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1');
  }

  /**
   * Keys the chain with the key in `keyFile` (created 0600 if missing, unless the trail is keyed
   * already) and opens the head checkpoint file, starting it at the current head when it is new.
   */
  async attach(keyFile: string, headFile: string): Promise<void> {
    this.chain.attach(keyFile, headFile, await this.head());
  }

  /**
   * Appends one event. In a transaction's view it is part of that transaction, links to the head
   * the transaction reads from the database, and is checkpointed after the commit
   * (Store.transaction does it); on the store itself it is one transaction of its own.
   */
  async append(event: AuditEvent, now = Date.now()): Promise<void> {
    const key = this.chain.key;
    if (!key) throw new Error('the audit log has no key: open the store with its audit key file');
    if (!this.engine) {
      this.appended = await appendOn(this.sql, key, event, now);
      return;
    }
    const written = await this.engine.transaction((tx) => appendOn(tx, key, event, now));
    this.chain.checkpoint(written);
  }

  /** Oldest first from `page.after` on, when `oldestFirst` (following the trail); else newest first. */
  async list(filter: AuditFilter, page: Page, oldestFirst = false) {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: page.limit + 1 };
    if (filter.actor !== undefined) (where.push('actor_name = @actor'), (params.actor = filter.actor));
    if (filter.action !== undefined) (where.push('action = @action'), (params.action = filter.action));
    if (filter.outcome !== undefined) (where.push('outcome = @outcome'), (params.outcome = filter.outcome));
    if (filter.resource !== undefined) (where.push('resource = @resource'), (params.resource = filter.resource));
    if (filter.since !== undefined) (where.push('time >= @since'), (params.since = filter.since));
    if (filter.search !== undefined) {
      where.push(auditMatch(this.sql.dialect));
      params.like = likePattern(filter.search);
    }
    if (page.after) (where.push(oldestFirst ? 'id > @after' : 'id < @after'), (params.after = cursorNumber(page.after[0])));
    const rows = await this.sql.all<AuditRow>(`SELECT ${COLUMNS} FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${oldestFirst ? 'ASC' : 'DESC'} LIMIT @limit`, params);
    return pageOf(rows, page.limit, (r) => [r.id], toRecord);
  }

  /**
   * Walks the whole chain and the head checkpoint file; reports every broken event, with how it is
   * known. Events before the keyed chain started are checked by the unkeyed rule they were written with.
   */
  async verify({ key, keyFile, headFile, expectedHeads = [] }: VerifyKeys): Promise<VerifyReport> {
    const byEvent = new Map<number, string[]>();
    const general: string[] = [];
    const warnings: string[] = [];
    const flag = (id: number, reason: string) => (byEvent.get(id) ?? byEvent.set(id, []).get(id)!).push(reason);
    const checkpoints = readCheckpoints(headFile);
    const markerId = checkpoints.marker?.id;

    let prev = GENESIS_HASH;
    let count = 0;
    let lastId = 0;
    let keyed = 0;
    let unverifiable = 0;
    for await (const row of this.rowsInOrder()) {
      count++;
      const { id, hash, ...rest } = row;
      if (row.prev_hash !== prev) flag(id, `it does not link to the event before it (${lastId ? `event ${lastId}` : 'the start'}): an event was removed or altered`);
      if (hash.startsWith(KEYED_PREFIX)) {
        keyed++;
        if (markerId !== undefined && id <= markerId) flag(id, `it carries a keyed hash, yet the checkpoint file says the keyed chain starts after event ${markerId}: the checkpoint file was replaced`);
        if (!key) unverifiable++;
        else if (keyedHashOf(key, rest) !== hash) flag(id, 'it was altered after it was written: its HMAC does not verify under the audit key');
      } else if (keyed > 0 || (markerId !== undefined && id > markerId)) {
        flag(id, 'it carries an unkeyed hash after the chain was keyed: it was written without the audit key');
      } else if (legacyHashOf(rest) !== hash) {
        const hint = Object.values(rest).some((v) => typeof v === 'string' && v.includes('\uFFFD')) ? ' (or it held a lone surrogate, which runeds before the keyed chain stored differently from how they hashed it)' : '';
        flag(id, `it was altered after it was written: its SHA-256 does not match${hint}`);
      }
      prev = hash;
      lastId = id;
    }

    if (unverifiable > 0) general.push(`the audit key ${keyFile} is missing: ${unverifiable} keyed event(s) cannot be checked`);
    const metaHead = (await this.sql.get<{ value: string }>("SELECT value FROM meta WHERE key = 'audit_head'"))?.value;
    if (metaHead !== undefined && metaHead !== prev) {
      general.push(`the database's recorded head (meta audit_head ${metaHead}) is not its last event's hash (${count ? `event ${lastId}: ${prev}` : 'no events'}): the newest events were removed`);
    }

    if (!checkpoints.exists) {
      if (key || keyed > 0) general.push(`the head checkpoint file ${headFile} is missing: a truncated or rewritten chain cannot be ruled out`);
      else warnings.push(`the chain is not keyed (written by an older runed): its next start keys it and starts ${headFile}`);
    }
    for (const at of checkpoints.recreated) general.push(`the head checkpoint file ${headFile} was recreated at ${at} because it was missing: events removed before then cannot be detected`);
    for (const line of checkpoints.malformed) general.push(`line ${line} of the head checkpoint file ${headFile} is malformed`);
    const lookup = async (id: number) => this.sql.get<{ hash: string }>('SELECT hash FROM audit_events WHERE id = ?', [id]);
    let newest: AuditHead | undefined;
    for (const cp of checkpoints.lines) {
      if (cp.id > lastId) {
        if (!newest || cp.id > newest.id) newest = cp;
        continue;
      }
      const stored = cp.id === 0 ? GENESIS_HASH : (await lookup(cp.id))?.hash;
      if (stored === undefined) flag(cp.id, `the head checkpoint file records it (line ${cp.line}, hash ${cp.hash}), but it is missing from the database: it was removed`);
      else if (stored !== cp.hash) {
        if (cp.id === 0) general.push(`line ${cp.line} of the head checkpoint file ${headFile} records an empty chain with hash ${cp.hash}: the file was altered`);
        else flag(cp.id, `the head checkpoint file records it with hash ${cp.hash} (line ${cp.line}), the database has ${stored}: it was rewritten`);
      }
    }
    if (newest) {
      general.push(
        `the head checkpoint file ${headFile} records event ${newest.id} with hash ${newest.hash}, but the database ${count ? `ends at event ${lastId}` : 'has no events'}: ` +
          `event(s) ${lastId + 1}–${newest.id} were removed`,
      );
    } else if (checkpoints.lines.length > 0) {
      const checkpointed = checkpoints.lines.reduce((max, l) => Math.max(max, l.id), 0);
      // A crash between a commit and its checkpoint leaves that commit's events unrecorded: a warning, since their HMACs still verify.
      if (checkpointed < lastId) {
        warnings.push(`${lastId - checkpointed} event(s) after event ${checkpointed}, the last head in ${headFile}, are not checkpointed: expected only for the last commit before a crash; their removal would not show`);
      }
    }

    for (const given of expectedHeads) {
      const stored = given.id === 0 ? GENESIS_HASH : (await lookup(given.id))?.hash;
      const what = `the head given with --expect-head (event ${given.id}, hash ${given.hash})`;
      if (given.id > lastId) general.push(`${what} is beyond the database's ${count ? `last event ${lastId}` : 'empty trail'}: event(s) ${lastId + 1}–${given.id} were removed`);
      else if (stored === undefined) flag(given.id, `${what} names it, but it is missing from the database: it was removed`);
      else if (stored !== given.hash) flag(given.id, `${what} names it, the database has ${stored}: it was rewritten`);
    }

    const breaks: AuditBreak[] = [...byEvent.entries()].sort(([a], [b]) => a - b).map(([id, reasons]) => ({ id, reasons }));
    for (const reason of general) breaks.push({ reasons: [reason] });
    return { ok: breaks.length === 0, events: count, breaks, warnings };
  }

  /** Every event, oldest first, read a page at a time. */
  private async *rowsInOrder(): AsyncGenerator<AuditRow> {
    let after = 0;
    for (;;) {
      const rows = await this.sql.all<AuditRow>(`SELECT ${COLUMNS} FROM audit_events WHERE id > ? ORDER BY id LIMIT 1000`, [after]);
      yield* rows;
      if (rows.length < 1000) return;
      after = rows.at(-1)!.id;
    }
  }
}

/** Inserts one event linked to the head read in `sql`'s transaction and records the new head. */
async function appendOn(sql: Sql, key: Buffer, event: AuditEvent, now: number): Promise<AuditHead> {
  const text = (s: string | undefined) => (s === undefined ? null : wellFormed(s));
  // One chain across replicas: on PostgreSQL appends are serialised by a transaction-scoped lock.
  if (sql.dialect === 'postgres') await sql.run(`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`);
  const head = await sql.get<AuditHead>('SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1');
  const row: Omit<AuditRow, 'id' | 'hash'> = {
    time: now,
    actor_name: text(event.actor?.name),
    actor_type: text(event.actor?.type),
    token_id: text(event.actor?.tokenId),
    action: wellFormed(event.action),
    resource: wellFormed(event.resource),
    ref: text(event.ref),
    namespace: text(event.namespace),
    outcome: event.outcome,
    message: wellFormed(event.message ?? ''),
    remote_addr: text(event.remoteAddr),
    prev_hash: head?.hash ?? GENESIS_HASH,
  };
  const hash = keyedHashOf(key, row);
  const inserted = await sql.get<{ id: number }>(
    `INSERT INTO audit_events (time, actor_name, actor_type, token_id, action, resource, ref, namespace, outcome, message, remote_addr, prev_hash, hash)
     VALUES (@time, @actor_name, @actor_type, @token_id, @action, @resource, @ref, @namespace, @outcome, @message, @remote_addr, @prev_hash, @hash) RETURNING id`,
    { ...row, hash },
  );
  await sql.run("INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [hash]);
  return { id: Number(inserted!.id), hash };
}
