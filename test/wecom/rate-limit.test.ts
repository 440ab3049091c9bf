import { describe, expect, it } from 'vitest';
import { type Permit, RateLimiter } from '../../src/wecom/rate-limit.ts';
import type { WindowLimit } from '../../src/wecom/sliding-window.ts';
import { FakeClock, flush } from './helpers.ts';

const WINDOW = 60_000;
const HOUR = 3_600_000;

function setup(limit: number, more: WindowLimit[] = []) {
  const clock = new FakeClock();
  const limiter = new RateLimiter([{ limit, windowMs: WINDOW }, ...more], clock.now, clock.sleep);
  /** Acquires and records which acquisitions have been granted so far. */
  const granted: Permit[] = [];
  const acquire = (signal?: AbortSignal) => {
    const promise = limiter.acquire(signal);
    promise.then((p) => granted.push(p)).catch(() => {});
    return promise;
  };
  return { clock, limiter, granted, acquire };
}

/** Asks for `n` permits at once and lets the clock run until all have started; returns the start times. */
async function startAll({ clock, acquire }: ReturnType<typeof setup>, n: number): Promise<number[]> {
  const starts: number[] = [];
  const all = Array.from({ length: n }, () =>
    acquire().then((p) => {
      expect(p.start()).toBe(true);
      starts.push(clock.now());
    }),
  );
  for (let i = 0; i < 1_000 && starts.length < n; i++) await clock.advance(10_000);
  await Promise.all(all);
  return starts;
}

/** In any window [t, t + windowMs) at most `limit` starts: checks the window opening at each start. */
function expectAtMost(starts: readonly number[], limit: number, windowMs: number): void {
  for (let i = 0; i + limit < starts.length; i++)
    expect(starts[i + limit]! - starts[i]!).toBeGreaterThanOrEqual(windowMs);
}

describe('RateLimiter', () => {
  it('lets N requests start in the window; the (N+1)th waits until the oldest start leaves it', async () => {
    const { clock, granted, acquire } = setup(3);
    for (let i = 0; i < 3; i++) {
      (await acquire()).start();
      await clock.advance(1_000); // starts at t0, t0+1s, t0+2s
    }
    void acquire();
    await flush();
    expect(granted).toHaveLength(3);
    await clock.advance(WINDOW - 3_000 - 1); // 1 ms before the first start leaves the window
    expect(granted).toHaveLength(3);
    await clock.advance(1);
    expect(granted).toHaveLength(4);
  });

  it('serves waiters in arrival order, one per freed slot', async () => {
    const { clock, acquire } = setup(1);
    (await acquire()).start();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      acquire().then((p) => {
        order.push(n);
        p.start();
      }),
    );
    await clock.advance(WINDOW);
    expect(order).toEqual([1]);
    await clock.advance(WINDOW);
    expect(order).toEqual([1, 2]);
    await clock.advance(WINDOW);
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });

  it('counts the actual start, not the grant: queueing for a concurrency slot cannot overfill a window', async () => {
    const { clock, granted, acquire } = setup(1);
    const first = await acquire();
    await clock.advance(30_000); // e.g. waiting for a concurrency slot
    first.start();
    void acquire();
    await clock.advance(WINDOW - 1);
    expect(granted).toHaveLength(1); // 30 s + 60 s - 1 ms after the grant, but only 59.999 s after the start
    await clock.advance(1);
    expect(granted).toHaveLength(2);
  });

  it('holds room for granted permits until they start or are released', async () => {
    const { clock, granted, acquire } = setup(2);
    const a = await acquire();
    await acquire();
    void acquire();
    await clock.advance(5 * WINDOW);
    expect(granted).toHaveLength(2); // nothing started, yet both slots are spoken for
    a.release();
    await flush();
    expect(granted).toHaveLength(3);
    a.release(); // twice is harmless
    expect(a.start()).toBe(false); // a released permit cannot start
  });

  it('pauses: no grant until the pause ends, and a permit granted before the pause does not start', async () => {
    const { clock, limiter, granted, acquire } = setup(100);
    const early = await acquire();
    limiter.pauseUntil(clock.now() + 60_000);
    expect(early.start()).toBe(false);
    void acquire();
    await clock.advance(59_999);
    expect(granted).toHaveLength(1);
    await clock.advance(1);
    expect(granted).toHaveLength(2);
    expect(granted[1]!.start()).toBe(true);
  });

  it('rejects a waiting acquire as soon as its signal aborts, and stops its timer', async () => {
    const { clock, acquire } = setup(1);
    (await acquire()).start();
    const controller = new AbortController();
    const waiting = acquire(controller.signal);
    await flush();
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect(clock.pendingTimers).toBe(0);
    await expect(acquire(controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });

  it.each([
    [3, 1],
    [1, 3],
  ])(
    'counts more earlier runs than its limit in the window: %i then %i calls neither block nor overfill it',
    async (a, b) => {
      const ctx = setup(1);
      const now = ctx.clock.now();
      // Two earlier processes, each a cell of its own, ended 50 s and 30 s ago: one more than the limit's cells.
      ctx.limiter.recordPast(now - 50_000, a);
      ctx.limiter.recordPast(now - 30_000, b);
      const starts = await startAll(ctx, 3);
      expect(starts.map((t) => t - now)).toEqual([30_000, 90_000, 150_000]);
    },
  );

  it('is exact over many windows with a large limit (ring buffer grows on demand)', async () => {
    const starts = await startAll(setup(3_000), 10_000);
    expectAtMost(starts, 3_000, WINDOW);
  });

  it('holds a request that fits the minute but not the hour until the hour has room', async () => {
    const { clock, granted, acquire } = setup(2, [{ limit: 5, windowMs: HOUR, resolutionMs: 1_000 }]);
    const first = clock.now() + 400; // inside a second, so its tick ends 600 ms after it
    await clock.advance(400);
    for (const calls of [2, 2, 1]) {
      for (let i = 0; i < calls; i++) (await acquire()).start();
      await clock.advance(WINDOW);
    }
    expect(granted).toHaveLength(5);
    void acquire(); // the minute has room, the hour has none
    await clock.advance(10 * WINDOW);
    expect(granted).toHaveLength(5);
    // The first start leaves the hour at the end of its one-second tick, never before an hour after it.
    await clock.advance(first + 600 + HOUR - clock.now() - 1);
    expect(granted).toHaveLength(5);
    await clock.advance(1);
    expect(granted).toHaveLength(6);
  });

  it('keeps to the minute and, counted per second, to the hour over many windows', async () => {
    const starts = await startAll(
      setup(20_000, [{ limit: 50_000, windowMs: HOUR, resolutionMs: 1_000 }]),
      120_000,
    );
    expectAtMost(starts, 20_000, WINDOW);
    expectAtMost(starts, 50_000, HOUR);
  });
});
