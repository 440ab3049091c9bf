// The slots in which groups are listed, shared by every chain being crawled. A free slot goes to the chain
// that asked first, not to each chain in turn: round-robin (what one FIFO queue of per-chain workers gave)
// made every chain finish crawling at about the same moment, so all their merges ran after the last API
// call, as the run's tail. Served in order, chains finish one after another and each merges while the
// next is still being listed; only the last chain's merge is left after the last call. A chain's groups are
// taken one at a time as slots free, never queued up front: a task per group would hold thousands of them
// (10,000 groups: ~17 MB) for the whole crawl.

type Start = () => Promise<void>;

export class GroupSlots {
  #free: number;
  /** Per chain, in the order they asked: starts its next item, or says it has none left to start. */
  readonly #waiting: (() => Start | undefined)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`slots must be a positive integer, got ${size}`);
    this.#free = size;
  }

  /**
   * Runs `work` on every item in the shared slots, after the items of chains that called earlier. On the
   * first failure it starts no more of them, aborts the signal the running ones were given, waits for them
   * to settle (so nothing is still writing to the chain's stage), then throws that failure.
   */
  each<T>(
    items: readonly T[],
    parent: AbortSignal,
    work: (item: T, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const controller = new AbortController();
    const signal = AbortSignal.any([parent, controller.signal]);
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let started = 0;
    let running = 0;
    let failure: { error: unknown } | undefined;
    const settleIfDone = (): void => {
      if (running > 0 || (started < items.length && !failure)) return;
      if (failure) reject(failure.error);
      else resolve();
    };
    const fail = (error: unknown): void => {
      failure ??= { error };
      controller.abort();
    };
    this.#waiting.push(() => {
      if (failure || started === items.length) return undefined;
      const item = items[started++] as T;
      running++;
      return async () => {
        try {
          await work(item, signal);
        } catch (error) {
          fail(error);
        } finally {
          running--;
          settleIfDone();
        }
      };
    });
    this.#fill();
    settleIfDone();
    return promise;
  }

  #fill(): void {
    while (this.#free > 0 && this.#waiting.length > 0) {
      const start = this.#waiting[0]!();
      if (!start) {
        this.#waiting.shift();
        continue;
      }
      this.#free--;
      void start().finally(() => {
        this.#free++;
        this.#fill();
      });
    }
  }
}
