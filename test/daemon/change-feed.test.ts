import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUMP_CHANGES_SQL, ChangeFeed, NOTIFY_CHANGES_SQL } from '../../src/daemon/store/changeFeed.js';
import { eventually } from '../helpers/runed.js';
import { PostgresServer } from '../helpers/postgres.js';

let server: PostgresServer;
let database: string;

beforeAll(async () => {
  server = await PostgresServer.start();
  const url = await server.createDatabase();
  database = new URL(url).pathname.slice(1);
  await server.query('CREATE TABLE rune_changes (id SMALLINT PRIMARY KEY, counter BIGINT NOT NULL, changed_at BIGINT NOT NULL)', [], database);
  await server.query('INSERT INTO rune_changes VALUES (1, 0, 0)', [], database);
}, 60_000);

afterAll(async () => {
  await server?.destroy();
});

/** A write transaction on "another replica": bump the counter and (unless told not to) notify. */
async function commitChange(origin: string, notify = true): Promise<void> {
  const client = new pg.Client(server.clientConfig(database));
  await client.connect();
  try {
    await client.query('BEGIN');
    const now = Date.now();
    const { rows } = await client.query<{ counter: string }>(BUMP_CHANGES_SQL.replace('?', '$1'), [now]);
    if (notify) await client.query(NOTIFY_CHANGES_SQL.replace('?', '$1'), [`${rows[0]!.counter}:${origin}:${now}`]);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

function feed(events: string[], delays: number[] = [], pollMs = 100): ChangeFeed {
  return new ChangeFeed({
    client: () => new pg.Client(server.clientConfig(database)),
    pollMs,
    retryMs: 50,
    onLost: () => events.push('lost'),
    onRegained: () => events.push('regained'),
    onPropagated: (s) => delays.push(s),
  });
}

describe('ChangeFeed (a real PostgreSQL)', () => {
  it('a commit elsewhere moves every listening replica\'s generation, and the delay is measured', async () => {
    const events: string[] = [];
    const delaysA: number[] = [];
    const a = feed(events, delaysA, 60_000);
    const b = feed(events, [], 60_000);
    await Promise.all([a.start(), b.start()]);
    try {
      expect(a.trusted && b.trusted).toBe(true);
      const [ga, gb] = [a.generation, b.generation];
      await commitChange('0badc0ffee00');
      // The poll is a minute away: only the notification can have moved them.
      await eventually('both replicas saw the change', () => a.generation > ga && b.generation > gb);
      expect(delaysA.length).toBeGreaterThan(0);
      expect(delaysA.every((d) => d >= 0 && d < 60)).toBe(true);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a replica\'s own notification does not count as propagation', async () => {
    const delays: number[] = [];
    const a = feed([], delays, 60_000);
    await a.start();
    try {
      const before = a.generation;
      await commitChange(a.origin);
      await eventually('the notification arrived', () => a.generation > before);
      expect(delays).toEqual([]);
    } finally {
      await a.stop();
    }
  });

  it('a change whose notification never came is found by the poll', async () => {
    const a = feed([], [], 50);
    await a.start();
    try {
      const before = a.generation;
      await commitChange('0badc0ffee00', false);
      await eventually('the poll saw the counter move', () => a.generation > before);
    } finally {
      await a.stop();
    }
  });

  it('loses trust when the database goes away and regains it, with a new generation, when it returns', async () => {
    const events: string[] = [];
    const a = feed(events, [], 50);
    await a.start();
    try {
      const before = a.generation;
      await server.stop();
      await eventually('the feed noticed', () => !a.trusted && events.includes('lost'), 20_000);
      expect(a.generation).toBeGreaterThan(before);
      const whileDown = a.generation;
      await server.start();
      await eventually('the feed listens again', () => a.trusted && events.includes('regained'), 30_000);
      expect(a.generation).toBeGreaterThan(whileDown);
      expect(events.filter((e) => e === 'lost')).toHaveLength(1);
      // And it still hears changes after the reconnection.
      const after = a.generation;
      await commitChange('0badc0ffee00');
      await eventually('a change after the reconnection', () => a.generation > after);
    } finally {
      await a.stop();
      await server.start();
    }
  }, 90_000);

  it('refuses to start blind when the database cannot be reached', async () => {
    const a = new ChangeFeed({ client: () => new pg.Client({ ...server.clientConfig(database), port: 1 }), pollMs: 50 });
    await expect(a.start()).rejects.toThrow();
    expect(a.trusted).toBe(false);
    await a.stop();
  });
});
