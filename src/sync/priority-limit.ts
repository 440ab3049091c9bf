// A concurrency limit with two queues: a waiting urgent task always starts before any other waiting task.

export class PriorityLimit {
  readonly #concurrency: number;
  #active = 0;
  readonly #urgent: (() => void)[] = [];
  readonly #other: (() => void)[] = [];

  constructor(concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.#concurrency = concurrency;
  }

  async run<T>(task: () => Promise<T>, urgent: boolean): Promise<T> {
    if (this.#active < this.#concurrency) this.#active++;
    else await new Promise<void>((start) => (urgent ? this.#urgent : this.#other).push(start));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next task, so a task arriving meanwhile cannot overtake it.
      const next = this.#urgent.shift() ?? this.#other.shift();
      if (next) next();
      else this.#active--;
    }
  }
}
