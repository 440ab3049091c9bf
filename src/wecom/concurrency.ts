// The global cap on requests in flight. WeCom publishes no concurrency limit but answers 45033 when there
// are too many: each 45033 lowers the cap by one (so a burst of them settles near WeCom's real limit) and
// every `cap` successes raise it by one again, never above the configured maximum. A stray 45033 among
// many successes costs nothing lasting.
import pLimit, { type LimitFunction } from 'p-limit';

export class ConcurrencyCap {
  readonly #max: number;
  readonly #limit: LimitFunction;
  #successes = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${max}`);
    }
    this.#max = max;
    this.#limit = pLimit(max);
  }

  /** Runs `task` once a slot is free; it holds the slot until its promise settles. */
  run<T>(task: () => Promise<T>): Promise<T> {
    return this.#limit(task);
  }

  get current(): number {
    return this.#limit.concurrency;
  }

  /**
   * WeCom said 45033 to a request sent while the cap was `sentAt`: too many requests in flight. Returns
   * whether the cap drew it, not the call: it lowered the cap now, or the request went out under a cap
   * lowered since (at a limit of 1, each probe to 2 draws two 45033s and only the first can lower it).
   */
  overloaded(sentAt: number): boolean {
    this.#successes = 0;
    if (this.#limit.concurrency === 1) return sentAt > 1;
    this.#limit.concurrency -= 1;
    return true;
  }

  succeeded(): void {
    if (this.#limit.concurrency >= this.#max) return;
    this.#successes += 1;
    if (this.#successes >= this.#limit.concurrency) {
      this.#successes = 0;
      this.#limit.concurrency += 1;
    }
  }
}
