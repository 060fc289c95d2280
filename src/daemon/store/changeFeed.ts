import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { ChangeSource, Sql } from './sql.js';

/** The channel every write transaction on PostgreSQL notifies, with "counter:replica:ms" as payload. */
export const CHANGES_CHANNEL = 'rune_changes';

/** Inside a write transaction: move the cluster's change counter and tell the other replicas at commit. */
export const BUMP_CHANGES_SQL = 'UPDATE rune_changes SET counter = counter + 1, changed_at = ? WHERE id = 1 RETURNING counter';
export const NOTIFY_CHANGES_SQL = `SELECT pg_notify('${CHANGES_CHANNEL}', ?)`;

export interface ChangeFeedEvents {
  onLost?: (err: unknown) => void;
  onRegained?: () => void;
  /** Seconds from another replica's commit to this replica dropping its caches. */
  onPropagated?: (seconds: number) => void;
}

export interface ChangeFeedOptions extends ChangeFeedEvents {
  /** A new, unconnected client for the listening connection (the same settings as the pool's). */
  client: () => pg.Client;
  /** How often the counter row is read as well, in case a notification was missed. */
  pollMs?: number;
  /** A connection whose last good poll is older than this is not trusted: caches are bypassed. */
  staleAfterMs?: number;
  /** Delay between reconnection attempts while the database cannot be reached. */
  retryMs?: number;
}

interface Payload {
  counter: number;
  origin: string;
  at: number;
}

function parsePayload(text: string | undefined): Payload | undefined {
  const m = /^(\d+):([0-9a-f]+):(\d+)$/.exec(text ?? '');
  return m ? { counter: Number(m[1]), origin: m[2]!, at: Number(m[3]) } : undefined;
}

/**
 * One replica's view of the cluster's change counter: a write on any replica moves `generation`
 * here within one notification (LISTEN/NOTIFY), or at worst one poll of the counter row. While the
 * database cannot be seen, `trusted` is false and the caches keyed by `generation` must not be used:
 * a replica that may have missed a revocation answers from the database or not at all.
 */
export class ChangeFeed implements ChangeSource {
  /** Moves whenever anything shared may have changed; caches compare it. */
  generation = 0;
  /** This replica's id in notification payloads, so its own changes are not counted as propagation. */
  readonly origin = randomBytes(6).toString('hex');
  private seen: number | undefined;
  /** The listening connection, once it listens. */
  private client: pg.Client | null = null;
  /** The connection being made or in use; events from older ones are ignored. */
  private current: pg.Client | null = null;
  private connected = false;
  private lastGoodPoll = 0;
  private polling = false;
  private stopped = false;
  private started = false;
  private everConnected = false;
  private reported = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pollMs: number;
  private readonly staleAfterMs: number;
  private readonly retryMs: number;

  /** Who hears of a lost or regained database and of propagation delays (set by the daemon). */
  readonly events: ChangeFeedEvents;

  constructor(private readonly options: ChangeFeedOptions) {
    this.events = { ...options };
    this.pollMs = options.pollMs ?? 100;
    this.staleAfterMs = options.staleAfterMs ?? Math.max(1000, this.pollMs * 10);
    this.retryMs = options.retryMs ?? 250;
  }

  /** True while the listening connection is up and its last poll is recent. */
  get trusted(): boolean {
    return this.connected && Date.now() - this.lastGoodPoll < this.staleAfterMs;
  }

  /** True unless the listening connection is known to be down (before start, nothing is known). */
  get reachable(): boolean {
    return this.connected || !this.started;
  }

  /** Connects once; resolves when listening (or rejects when the first attempt fails: runed does not start blind). */
  async start(): Promise<void> {
    this.started = true;
    await this.connect();
    this.pollTimer = setInterval(() => void this.poll(), this.pollMs);
    this.pollTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    const client = this.current;
    this.client = this.current = null;
    this.connected = false;
    if (client) await client.end().catch(() => undefined);
  }

  /** Last in every write transaction: the counter row (a lock held to the commit) and the notification sent at commit. */
  async record(tx: Sql): Promise<void> {
    const now = Date.now();
    const row = await tx.get<{ counter: number }>(BUMP_CHANGES_SQL, [now]);
    if (!row) throw new Error('the rune_changes row is missing: the PostgreSQL schema is not migrated');
    await tx.run(NOTIFY_CHANGES_SQL, [`${Number(row.counter)}:${this.origin}:${now}`]);
  }

  /** A commit on this replica: its own caches drop at once, before the notification comes back. */
  localChange(): void {
    this.generation++;
  }

  private async connect(): Promise<void> {
    const client = this.options.client();
    this.current = client;
    client.on('error', (err) => this.lose(client, err));
    client.on('end', () => this.lose(client, new Error('the listening connection to the database closed')));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGES_CHANNEL) this.notified(parsePayload(msg.payload));
    });
    let counter: number;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      counter = await this.readCounter(client);
    } catch (err) {
      if (this.current === client) this.current = null;
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
    this.lastGoodPoll = Date.now();
    // Whatever happened while this replica could not listen, its caches start again from the database.
    this.seen = counter;
    this.generation++;
    if (this.everConnected && this.reported) this.events.onRegained?.();
    this.everConnected = true;
    this.reported = false;
  }

  private async readCounter(client: pg.Client): Promise<number> {
    const { rows } = await client.query<{ counter: string; changed_at: string }>('SELECT counter, changed_at FROM rune_changes WHERE id = 1');
    if (rows.length === 0) throw new Error('the rune_changes row is missing: the PostgreSQL schema is not migrated');
    return Number(rows[0]!.counter);
  }

  private notified(payload: Payload | undefined): void {
    this.generation++;
    if (!payload) return;
    if (this.seen === undefined || payload.counter > this.seen) this.seen = payload.counter;
    if (payload.origin !== this.origin) this.events.onPropagated?.(Math.max(0, Date.now() - payload.at) / 1000);
  }

  private async poll(): Promise<void> {
    const client = this.client;
    if (!client || !this.connected || this.polling) return;
    this.polling = true;
    try {
      const { rows } = await client.query<{ counter: string; changed_at: string }>('SELECT counter, changed_at FROM rune_changes WHERE id = 1');
      const counter = Number(rows[0]?.counter ?? NaN);
      if (this.seen === undefined || counter !== this.seen) {
        // A change the notification did not bring (or has not yet): drop the caches now.
        this.seen = counter;
        this.generation++;
        this.events.onPropagated?.(Math.max(0, Date.now() - Number(rows[0]?.changed_at ?? Date.now())) / 1000);
      }
      this.lastGoodPoll = Date.now();
    } catch (err) {
      this.lose(client, err);
    } finally {
      this.polling = false;
    }
  }

  private lose(client: pg.Client, err: unknown): void {
    if (this.stopped || client !== this.current) return;
    this.client = this.current = null;
    const wasConnected = this.connected;
    this.connected = false;
    this.generation++;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (wasConnected && !this.reported) {
      this.reported = true;
      this.events.onLost?.(err);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect().catch((err) => {
        if (!this.reported) {
          this.reported = true;
          this.events.onLost?.(err);
        }
        this.scheduleReconnect();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }
}
