import { describe, expect, it } from 'vitest';
import { TxContext } from '../../src/daemon/store/txContext.js';

const tick = () => new Promise<void>((r) => setTimeout(r, 1));

describe('TxContext', () => {
  it('names the open transaction across awaits and timers, and nothing outside or after it', async () => {
    const ctx = new TxContext<{ open: boolean; name: string }>();
    expect(ctx.current()).toBeUndefined();
    const mark = { open: true, name: 'a' };
    let later: Promise<unknown> | undefined;
    await ctx.run(mark, async () => {
      await tick();
      expect(ctx.current()).toBe(mark);
      await new Promise<void>((r) => setImmediate(() => (expect(ctx.current()).toBe(mark), r())));
      // A task started inside but still running once the transaction has ended.
      later = tick().then(() => tick()).then(() => ctx.current());
    });
    mark.open = false;
    expect(ctx.current()).toBeUndefined();
    expect(await later).toBeUndefined();
  });

  it('keeps overlapping transactions apart, and still tracks after many have come and gone', async () => {
    const ctx = new TxContext<{ open: boolean; name: string }>();
    for (let i = 0; i < 5; i++) await ctx.run({ open: true, name: `t${i}` }, async () => tick());
    const a = { open: true, name: 'a' };
    const b = { open: true, name: 'b' };
    const seen: string[] = [];
    let outside: unknown = 'unset';
    await Promise.all([
      ctx.run(a, async () => {
        await tick();
        seen.push(ctx.current()!.name);
        await tick();
        seen.push(ctx.current()!.name);
      }),
      ctx.run(b, async () => {
        await tick();
        seen.push(ctx.current()!.name);
      }),
      (async () => {
        await tick();
        outside = ctx.current();
      })(),
    ]);
    expect(seen.sort()).toEqual(['a', 'a', 'b']);
    expect(outside).toBeUndefined();
    // The last one ended: nothing is tracked until the next one starts, which is tracked again.
    expect(ctx.current()).toBeUndefined();
    const c = { open: true, name: 'c' };
    await ctx.run(c, async () => {
      await tick();
      expect(ctx.current()).toBe(c);
    });
  });
});
