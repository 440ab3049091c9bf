// WeCom's frequency and concurrency limits, with the clock injected so tests never sleep.

export interface RateLimitOptions {
  /** Calls allowed per endpoint per window. */
  limit: number;
  /** How long an endpoint answers 45009 once the limit is crossed. */
  blockMs: number;
  windowMs?: number;
  now: () => number;
}

interface EndpointWindow {
  start: number;
  count: number;
  blockedUntil: number;
}

/**
 * A fixed window per endpoint, starting at the first call after the previous window ended (not at
 * clock minutes). Crossing the limit blocks the endpoint for blockMs, whatever the window: WeCom's
 * per-minute block lasts a full minute from when it was hit. Calls refused during a block do not
 * count toward the next window, and do not extend the block.
 */
export class RateLimiter {
  readonly #options: Required<RateLimitOptions>;
  readonly #windows = new Map<string, EndpointWindow>();

  constructor(options: RateLimitOptions) {
    this.#options = { windowMs: 60_000, ...options };
  }

  /** Counts one call; false when it must be refused with 45009. */
  admit(endpoint: string): boolean {
    const now = this.#options.now();
    const w = this.#window(endpoint, now);
    if (now < w.blockedUntil) return false;
    if (now - w.start >= this.#options.windowMs) {
      w.start = now;
      w.count = 0;
    }
    w.count++;
    if (w.count > this.#options.limit) {
      this.block(endpoint);
      return false;
    }
    return true;
  }

  /** Blocks the endpoint from now on, as a limit crossed elsewhere (or an injected 45009) would. */
  block(endpoint: string): void {
    const now = this.#options.now();
    const w = this.#window(endpoint, now);
    w.blockedUntil = now + this.#options.blockMs;
    // The block replaces the window: counting starts afresh once it is over.
    w.start = w.blockedUntil;
    w.count = 0;
  }

  blocked(endpoint: string): boolean {
    return this.#options.now() < this.blockedUntil(endpoint);
  }

  blockedUntil(endpoint: string): number {
    return this.#windows.get(endpoint)?.blockedUntil ?? 0;
  }

  #window(endpoint: string, now: number): EndpointWindow {
    let w = this.#windows.get(endpoint);
    if (!w) {
      w = { start: now, count: 0, blockedUntil: 0 };
      this.#windows.set(endpoint, w);
    }
    return w;
  }
}

/** Requests being handled right now, and the most seen at once. */
export class InFlight {
  readonly #limit: number;
  #current = 0;
  #max = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get max(): number {
    return this.#max;
  }

  /**
   * Counts a request in; false when it is over the limit (it still counts until leave(): a refused
   * request holds a connection too, and the server sees it).
   */
  enter(): boolean {
    this.#current++;
    if (this.#current > this.#max) this.#max = this.#current;
    return this.#current <= this.#limit;
  }

  leave(): void {
    this.#current--;
  }

  resetMax(): void {
    this.#max = this.#current;
  }
}
