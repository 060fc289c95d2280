import { createHash } from 'node:crypto';
import type { Db } from './db.js';
import { pageOf, type Page } from '../paging.js';

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

export const GENESIS_HASH = '0'.repeat(64);

/** The hash of an event: SHA-256 over its previous hash and its fields in a fixed order. */
function hashOf(row: Omit<AuditRow, 'id' | 'hash'>): string {
  const fields = [row.prev_hash, row.time, row.actor_name, row.actor_type, row.token_id, row.action, row.resource, row.ref, row.namespace, row.outcome, row.message, row.remote_addr];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
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
  resource?: string;
  since?: number;
}

export class AuditLog {
  constructor(private readonly db: Db) {}

  /** Appends one event in its own IMMEDIATE transaction, so the chain stays linear across processes. */
  append(event: AuditEvent, now = Date.now()): void {
    this.db
      .transaction(() => {
        const last = this.db.prepare<[], { hash: string }>('SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1').get();
        const row: Omit<AuditRow, 'id' | 'hash'> = {
          time: now,
          actor_name: event.actor?.name ?? null,
          actor_type: event.actor?.type ?? null,
          token_id: event.actor?.tokenId ?? null,
          action: event.action,
          resource: event.resource,
          ref: event.ref ?? null,
          namespace: event.namespace ?? null,
          outcome: event.outcome,
          message: event.message ?? '',
          remote_addr: event.remoteAddr ?? null,
          prev_hash: last?.hash ?? GENESIS_HASH,
        };
        const hash = hashOf(row);
        this.db
          .prepare(
            `INSERT INTO audit_events (time, actor_name, actor_type, token_id, action, resource, ref, namespace, outcome, message, remote_addr, prev_hash, hash)
             VALUES (@time, @actor_name, @actor_type, @token_id, @action, @resource, @ref, @namespace, @outcome, @message, @remote_addr, @prev_hash, @hash)`,
          )
          .run({ ...row, hash });
        this.db.prepare("INSERT INTO meta (key, value) VALUES ('audit_head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(hash);
      })
      .immediate();
  }

  /** Newest first. */
  list(filter: AuditFilter, page: Page) {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: page.limit + 1 };
    if (filter.actor !== undefined) (where.push('actor_name = @actor'), (params.actor = filter.actor));
    if (filter.action !== undefined) (where.push('action = @action'), (params.action = filter.action));
    if (filter.outcome !== undefined) (where.push('outcome = @outcome'), (params.outcome = filter.outcome));
    if (filter.resource !== undefined) (where.push('resource = @resource'), (params.resource = filter.resource));
    if (filter.since !== undefined) (where.push('time >= @since'), (params.since = filter.since));
    if (page.after) (where.push('id < @after'), (params.after = Number(page.after[0])));
    const rows = this.db
      .prepare<[Record<string, unknown>], AuditRow>(`SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`)
      .all(params);
    return pageOf(rows, page.limit, (r) => [r.id], toRecord);
  }

  /** Walks the whole chain; answers the first event whose link or hash does not hold. */
  verify(): { ok: true; events: number } | { ok: false; events: number; brokenAt: number; reason: string } {
    let prev = GENESIS_HASH;
    let count = 0;
    let lastId = 0;
    for (const row of this.db.prepare<[], AuditRow>('SELECT * FROM audit_events ORDER BY id').iterate()) {
      count++;
      if (row.prev_hash !== prev) return { ok: false, events: count, brokenAt: row.id, reason: `event ${row.id} does not link to the event before it (an event was removed or altered)` };
      const { id: _id, hash, ...rest } = row;
      if (hashOf(rest) !== hash) return { ok: false, events: count, brokenAt: row.id, reason: `event ${row.id} was altered after it was written` };
      prev = hash;
      lastId = row.id;
    }
    // The head is written with every event, so cutting events off the end shows too.
    const head = this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'audit_head'").get()?.value;
    if (head !== undefined && head !== prev) {
      return { ok: false, events: count, brokenAt: lastId + 1, reason: 'the newest events were removed: the chain ends before the recorded head' };
    }
    return { ok: true, events: count };
  }
}
