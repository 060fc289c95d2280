import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextExpiry, PageCache, type PageCacheLimits } from '../../src/daemon/pageCache.js';

/** A real fastify route answering through a PageCache; `computed` counts the pages built. */
function app(limits: PageCacheLimits, nextChange: (now: number) => number = () => Infinity) {
  const store = { generation: 0 };
  const cache = new PageCache(store, limits);
  const state = { computed: 0, duringCompute: () => {} };
  const server: FastifyInstance = Fastify();
  const schema = { response: { 200: { type: 'object', properties: { key: { type: 'string' }, n: { type: 'number' }, pad: { type: 'string' } } } } };
  server.get('/:key', { schema }, async (req, reply) => {
    const key = (req.params as { key: string }).key;
    return cache.send(reply, key, () => {
      state.duringCompute();
      return { key, n: ++state.computed, pad: 'x'.repeat(100), secret: 'never sent' };
    }, (_page, now) => nextChange(now));
  });
  const get = async (key: string) => (await server.inject({ method: 'GET', url: `/${key}` })).json() as { key: string; n: number; secret?: string };
  return { store, cache, state, get, server };
}

const LIMITS = { entries: 10, bytes: 1 << 20, maxAgeMs: 1000 };

describe('PageCache', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['Date'] }));
  afterEach(() => vi.useRealTimers());

  it('serves a page again until the store writes, and serialises with the response schema', async () => {
    const { store, get } = app(LIMITS);
    const first = await get('a');
    expect(first).toEqual({ key: 'a', n: 1, pad: 'x'.repeat(100) });
    expect((await get('a')).n).toBe(1);
    store.generation++;
    expect((await get('a')).n).toBe(2);
  });

  it('keeps no page for longer than maxAgeMs', async () => {
    const { get } = app(LIMITS);
    vi.setSystemTime(1_000_000);
    expect((await get('a')).n).toBe(1);
    vi.setSystemTime(1_000_999);
    expect((await get('a')).n).toBe(1);
    vi.setSystemTime(1_001_000);
    expect((await get('a')).n).toBe(2);
  });

  it('keeps no page past the next change it announces (a token expiring in it)', async () => {
    vi.setSystemTime(2_000_000);
    const { get } = app(LIMITS, () => 2_000_100);
    expect((await get('a')).n).toBe(1);
    vi.setSystemTime(2_000_099);
    expect((await get('a')).n).toBe(1);
    vi.setSystemTime(2_000_100);
    expect((await get('a')).n).toBe(2);
  });

  it('does not keep a page during which the store wrote', async () => {
    const { store, state, get } = app(LIMITS);
    state.duringCompute = () => void store.generation++;
    expect((await get('a')).n).toBe(1);
    state.duringCompute = () => {};
    expect((await get('a')).n).toBe(2);
    expect((await get('a')).n).toBe(2);
  });

  it('is bounded in entries, dropping the least recently used', async () => {
    const { cache, get } = app({ ...LIMITS, entries: 2 });
    await get('a');
    await get('b');
    await get('a');
    await get('c');
    expect(cache.size).toBe(2);
    expect((await get('a')).n).toBe(1);
    expect((await get('b')).n).toBe(4);
  });

  it('is bounded in bytes', async () => {
    const { cache, get } = app({ ...LIMITS, bytes: 300 });
    await get('a');
    await get('b');
    await get('c');
    expect(cache.size).toBe(2);
    const tiny = app({ ...LIMITS, bytes: 10 });
    await tiny.get('a');
    expect(tiny.cache.size).toBe(0);
  });
});

describe('nextExpiry', () => {
  it('is the earliest expiry still ahead, ignoring past ones and tokens that never expire', () => {
    const now = Date.parse('2026-01-01T00:00:00.000Z');
    const items = [{ expiresAt: '2025-12-31T00:00:00.000Z' }, {}, { expiresAt: '2026-01-03T00:00:00.000Z' }, { expiresAt: '2026-01-02T00:00:00.000Z' }];
    expect(nextExpiry(items, now)).toBe(Date.parse('2026-01-02T00:00:00.000Z'));
    expect(nextExpiry([{}], now)).toBe(Infinity);
  });
});
