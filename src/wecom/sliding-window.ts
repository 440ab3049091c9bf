// The starts of one endpoint's requests inside one sliding window, for the rate limiter.

export interface WindowLimit {
  /** Starts allowed in any `windowMs`. */
  limit: number;
  windowMs: number;
  /**
   * Starts are counted per tick of this many ms and each leaves the window at the end of its tick: up to a
   * tick later than it has to, never earlier. 0 keeps every start on its own (exact, but a cell per start).
   */
  resolutionMs?: number;
}

/**
 * The starts still inside one sliding window: a ring buffer of (tick, starts) cells, oldest at #head, sorted
 * as the clock is monotonic. It grows on demand, up to `limit` cells for an exact window or one per tick of
 * the window otherwise, so a generous limit costs no memory until used and an hour costs 3,600 cells.
 */
export class SlidingWindow {
  readonly limit: number;
  readonly #windowMs: number;
  readonly #resolutionMs: number;
  readonly #maxCells: number;
  #ticks: Float64Array;
  #starts: Uint32Array;
  #head = 0;
  #cells = 0;
  #count = 0;

  constructor({ limit, windowMs, resolutionMs = 0 }: WindowLimit) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
    }
    this.limit = limit;
    this.#windowMs = windowMs;
    this.#resolutionMs = resolutionMs;
    this.#maxCells = resolutionMs > 0 ? Math.ceil(windowMs / resolutionMs) + 2 : limit;
    const cells = Math.min(this.#maxCells, 1024);
    this.#ticks = new Float64Array(cells);
    this.#starts = new Uint32Array(cells);
  }

  /** Starts inside the window. */
  get count(): number {
    return this.#count;
  }

  /** Forgets the starts that have left the window by `now`. */
  expire(now: number): void {
    while (this.#cells > 0 && this.#leavesAt(this.#head) <= now) {
      this.#count -= this.#starts[this.#head]!;
      this.#head = (this.#head + 1) % this.#ticks.length;
      this.#cells--;
    }
  }

  /** Records `starts` starts at `start`, which must not be earlier than any start recorded before. */
  record(start: number, starts = 1): void {
    this.expire(start);
    const tick = this.#resolutionMs > 0 ? Math.floor(start / this.#resolutionMs) * this.#resolutionMs : start;
    const last = (this.#head + this.#cells - 1) % this.#ticks.length;
    this.#count += starts;
    const full = this.#cells === this.#ticks.length;
    // This process's own starts cannot fill an exact window's `limit` cells past a grant (count + granted <
    // limit held when it was granted), nor a ticked one's cells outnumber the ticks of one window; but more
    // earlier runs than `limit` can end inside one window (recordPast). The newest cell then takes these
    // starts and their tick, as it does those of its own tick: its own leave the window later than they need
    // to, never earlier.
    if (this.#cells > 0 && (this.#ticks[last] === tick || (full && this.#ticks.length === this.#maxCells))) {
      this.#ticks[last] = tick;
      this.#starts[last] = this.#starts[last]! + starts;
      return;
    }
    if (full) this.#grow();
    const cell = (this.#head + this.#cells) % this.#ticks.length;
    this.#ticks[cell] = tick;
    this.#starts[cell] = starts;
    this.#cells++;
  }

  /** When the oldest start inside leaves the window; null when there is none. */
  nextExpiry(): number | null {
    return this.#cells > 0 ? this.#leavesAt(this.#head) : null;
  }

  #leavesAt(cell: number): number {
    return this.#ticks[cell]! + this.#resolutionMs + this.#windowMs;
  }

  #grow(): void {
    const size = Math.min(this.#maxCells, this.#ticks.length * 2);
    const ticks = new Float64Array(size);
    const starts = new Uint32Array(size);
    for (let i = 0; i < this.#cells; i++) {
      const from = (this.#head + i) % this.#ticks.length;
      ticks[i] = this.#ticks[from]!;
      starts[i] = this.#starts[from]!;
    }
    this.#ticks = ticks;
    this.#starts = starts;
    this.#head = 0;
  }
}
