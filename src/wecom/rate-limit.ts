// Client-side caps on calls per sliding window (WeCom counts per minute and per hour) for one endpoint,
// plus the pause a 45009 asks for.
//
// A caller first acquires a permit (waiting here, outside any concurrency slot), then, once it holds a
// concurrency slot, calls permit.start() right before sending. The window records *actual* start times,
// so time spent queueing for a slot can never squeeze more than `limit` requests into one window — WeCom
// counts arrivals, and one request too many costs a 60 s block. Permits granted but not yet started
// count against the window too, so a waiter is only woken when its request is sure to fit: no thundering
// herd, and waiters are served in arrival order.
import { abortReason } from './abort.ts';
import { SlidingWindow, type WindowLimit } from './sliding-window.ts';
import type { Now, Sleep } from './timing.ts';

export interface Permit {
  /**
   * Records that the request starts now. Returns false (and gives the permit back) when the endpoint was
   * paused after the permit was granted: the caller must not send, and acquires again.
   */
  start(): boolean;
  /** Gives back a permit that will not be used. Harmless after start() or a previous release(). */
  release(): void;
}

interface Waiter {
  resolve: (permit: Permit) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  /** Served or aborted: skipped by the queue. */
  gone: boolean;
}

/**
 * FIFO of waiters with O(1) push, shift and removal. A crawl can park a great many calls here at once,
 * and Array#shift / indexOf+splice are O(n) each: a million waiters would take minutes to drain or abort.
 */
class WaiterQueue {
  #items: (Waiter | undefined)[] = [];
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(waiter: Waiter): void {
    this.#items.push(waiter);
    this.#size++;
  }

  remove(waiter: Waiter): void {
    if (waiter.gone) return;
    waiter.gone = true;
    this.#size--;
  }

  shift(): Waiter | undefined {
    while (this.#head < this.#items.length) {
      const waiter = this.#items[this.#head];
      this.#items[this.#head++] = undefined;
      if (waiter !== undefined && !waiter.gone) {
        waiter.gone = true;
        this.#size--;
        this.#compact();
        return waiter;
      }
    }
    this.#compact();
    return undefined;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}

export class RateLimiter {
  readonly #windows: readonly SlidingWindow[];
  readonly #now: Now;
  readonly #sleep: Sleep;
  /** Permits handed out and neither started nor released: they hold room in every window. */
  #granted = 0;
  #pausedUntil = Number.NEGATIVE_INFINITY;
  readonly #waiters = new WaiterQueue();
  /** The one timer that wakes the queue when time alone frees room (a start leaves the window, a pause ends). */
  #timer: { at: number; controller: AbortController } | null = null;

  /** A request must fit in every one of `windows`. */
  constructor(windows: readonly WindowLimit[], now: Now, sleep: Sleep) {
    if (windows.length === 0) throw new RangeError('a rate limiter needs at least one window');
    this.#windows = windows.map((w) => new SlidingWindow(w));
    this.#now = now;
    this.#sleep = sleep;
  }

  /** Resolves with a permit once a request to this endpoint would fit in the window. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#waiters.size === 0 && this.#hasRoom(this.#now())) return Promise.resolve(this.#grant());
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        signal,
        gone: false,
        onAbort: () => {
          this.#waiters.remove(waiter);
          reject(abortReason(signal!));
          this.#pump(); // may cancel the timer if nobody is left waiting
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#pump();
    });
  }

  /**
   * Counts `starts` requests made at `at` (before now) by someone else, an earlier process: WeCom counted
   * them against the same windows. Only before this limiter's own first request, oldest first.
   */
  recordPast(at: number, starts: number): void {
    for (const w of this.#windows) w.record(at, starts);
  }

  /** Stops granting and starting requests until `untilMs` (on the injected clock). Only ever extends a pause. */
  pauseUntil(untilMs: number): void {
    if (untilMs <= this.#pausedUntil) return;
    this.#pausedUntil = untilMs;
    this.#pump();
  }

  #hasRoom(now: number): boolean {
    if (now < this.#pausedUntil) return false;
    for (const w of this.#windows) {
      w.expire(now);
      if (w.count + this.#granted >= w.limit) return false;
    }
    return true;
  }

  #grant(): Permit {
    this.#granted++;
    let open = true;
    const giveBack = (): void => {
      open = false;
      this.#granted--;
      this.#pump();
    };
    return {
      start: () => {
        if (!open) return false;
        const now = this.#now();
        if (now < this.#pausedUntil) {
          giveBack();
          return false;
        }
        open = false;
        this.#granted--;
        for (const w of this.#windows) w.record(now);
        // The window may have been full of granted permits only, with no timer armed: now there is a
        // start whose expiry frees room.
        if (this.#waiters.size > 0) this.#pump();
        return true;
      },
      release: () => {
        if (open) giveBack();
      },
    };
  }

  /** Wakes as many waiters as fit now, then arms the timer for the next moment time alone frees room. */
  #pump(): void {
    const now = this.#now();
    while (this.#waiters.size > 0 && this.#hasRoom(now)) {
      const waiter = this.#waiters.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.#grant());
    }
    if (this.#waiters.size === 0) {
      this.#setTimer(null);
    } else if (now < this.#pausedUntil) {
      this.#setTimer(this.#pausedUntil);
    } else {
      this.#setTimer(this.#roomAt());
    }
  }

  /**
   * The first moment every full window has let its oldest start go; null when a full window's room is all
   * held by granted permits, whose start() or release() pumps again.
   */
  #roomAt(): number | null {
    let at: number | null = null;
    for (const w of this.#windows) {
      if (w.count + this.#granted < w.limit) continue;
      const expiry = w.nextExpiry();
      if (expiry === null) return null;
      at = Math.max(at ?? expiry, expiry);
    }
    return at;
  }

  #setTimer(at: number | null): void {
    if (this.#timer?.at === at) return;
    this.#timer?.controller.abort();
    this.#timer = null;
    if (at === null) return;
    const timer = { at, controller: new AbortController() };
    this.#timer = timer;
    this.#sleep(Math.max(0, at - this.#now()), timer.controller.signal).then(
      () => {
        if (this.#timer !== timer) return;
        this.#timer = null;
        this.#pump();
      },
      () => {}, // cancelled: a newer timer (or none) replaced it
    );
  }
}
