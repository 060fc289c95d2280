import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/daemon/store/index.js';

const dirs: string[] = [];
const stores: Store[] = [];

async function open(): Promise<{ dir: string; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'runed-store-'));
  dirs.push(dir);
  const store = await Store.open(join(dir, 'data'));
  stores.push(store);
  return { dir: join(dir, 'data'), store };
}

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A promise and the function that settles it, for holding a transaction open. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => (open = r));
  return { wait, open };
}

describe('the SQLite engine', () => {
  it('keeps the data dir 0700 and the database 0600', async () => {
    const { dir } = await open();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'runed.db')).mode & 0o777).toBe(0o600);
  });

  it('a read outside a transaction never sees another transaction\'s uncommitted write', async () => {
    const { store } = await open();
    const held = gate();
    const written = gate();
    const tx = store.transaction(async (t) => {
      await t.namespaces.insert('pending', 1);
      expect(await t.namespaces.get('pending')).toBeDefined(); // the transaction sees its own write
      written.open();
      await held.wait;
    });
    await written.wait;
    expect(await store.namespaces.get('pending')).toBeUndefined();
    held.open();
    await tx;
    expect(await store.namespaces.get('pending')).toBeDefined();
  });

  it('a write outside a transaction waits for the open transaction instead of landing inside it', async () => {
    const { store } = await open();
    const held = gate();
    const started = gate();
    const tx = store.transaction(async (t) => {
      await t.namespaces.insert('in-tx', 1);
      started.open();
      await held.wait;
      throw new Error('roll back');
    });
    await started.wait;
    let landed = false;
    const lone = store.namespaces.insert('lone', 2).then(() => (landed = true));
    // The lone write is queued behind the transaction: with every pending callback run, it still has not landed.
    await new Promise((r) => setImmediate(r));
    expect(landed).toBe(false);
    held.open();
    await expect(tx).rejects.toThrow('roll back');
    await lone;
    expect(await store.namespaces.get('in-tx')).toBeUndefined();
    expect(await store.namespaces.get('lone')).toBeDefined();
  });

  it('using the store itself inside a transaction throws instead of running outside it', async () => {
    const { store } = await open();
    await expect(store.transaction(async () => store.namespaces.get('default'))).rejects.toThrow(/store misuse/);
    await expect(store.transaction(async () => store.namespaces.insert('x', 1))).rejects.toThrow(/store misuse/);
    await expect(store.transaction(async () => store.audit.append({ action: 'a', resource: 'r', outcome: 'success' }))).rejects.toThrow(/store misuse/);
    // A transaction inside a transaction runs in it.
    await store.transaction(async (tx) => tx.transaction(async (inner) => inner.namespaces.insert('nested', 1)));
    expect(await store.namespaces.get('nested')).toBeDefined();
  });

  it('still catches misuse after many transactions, and never takes another task\'s read for misuse', async () => {
    const { store } = await open();
    for (let i = 0; i < 3; i++) await store.transaction(async (tx) => tx.namespaces.insert(`n${i}`, 1));
    await expect(store.transaction(async () => store.namespaces.get('n0'))).rejects.toThrow(/store misuse/);
    // A transaction waits inside while another task reads through the store: that read is not misuse.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inTx = store.transaction(async (tx) => {
      await gate;
      return tx.namespaces.get('n1');
    });
    expect(await store.namespaces.get('n2')).toBeDefined();
    release();
    expect(await inTx).toBeDefined();
  });

  it('each write transaction moves the generation; reads do not', async () => {
    const { store } = await open();
    const before = store.generation;
    await store.namespaces.list({ limit: 10 });
    expect(store.generation).toBe(before);
    await store.transaction(async (tx) => tx.namespaces.insert('g', 1));
    expect(store.generation).toBe(before + 1);
  });

  it('concurrent transactions keep the audit chain linear', async () => {
    const { dir, store } = await open();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.transaction((tx) => tx.audit.append({ action: 'create', resource: 'users', ref: `u${i}`, outcome: 'success' }))));
    const report = await store.audit.verify({ key: undefined, keyFile: join(dir, 'audit.key'), headFile: join(dir, 'audit.head') });
    expect(report.events).toBe(20);
    expect(report.breaks.filter((b) => b.id !== undefined)).toEqual([]);
    expect((await store.audit.head())!.id).toBe(20);
  });
});
