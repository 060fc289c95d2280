import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which transaction the calling async task is inside, for the engines' misuse checks (a statement
 * on the store itself inside one of its transactions).
 *
 * On Node 20 an enabled AsyncLocalStorage runs a hook on every promise the process creates, which
 * cost about a tenth of the throughput of a cached list request that never opens a transaction. So
 * the storage is enabled only while a transaction is open and disabled when the last one ends:
 * outside of transactions, `current()` is undefined anyway.
 */
export class TxContext<T extends { open: boolean }> {
  private readonly storage = new AsyncLocalStorage<T>();
  private running = 0;

  /** The transaction open in the calling async task, if any. */
  current(): T | undefined {
    if (this.running === 0) return undefined;
    const mark = this.storage.getStore();
    return mark?.open ? mark : undefined;
  }

  /** Runs `fn` as the transaction `mark`: every async call it makes sees `mark` in `current()`. */
  async run<R>(mark: T, fn: () => Promise<R>): Promise<R> {
    this.running++;
    try {
      return await this.storage.run(mark, fn);
    } finally {
      if (--this.running === 0) this.storage.disable();
    }
  }
}
