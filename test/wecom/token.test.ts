import { afterEach, describe, expect, it } from 'vitest';
import { WecomApiError, WecomRefusedError } from '../../src/wecom/errors.ts';
import { type FetchedToken, TokenCache } from '../../src/wecom/token.ts';
import {
  CORP_ID,
  calls,
  errcode,
  FakeClock,
  type FakeWecom,
  flush,
  ok,
  SECRET,
  startWecom,
  testClient,
  tokenAnswer,
  until,
} from './helpers.ts';

describe('TokenCache', () => {
  function setup(expiresInMs = 7_200_000) {
    const clock = new FakeClock();
    let n = 0;
    const pending: Array<() => void> = [];
    const cache = new TokenCache(() => {
      n += 1;
      const token = `T${n}`;
      return new Promise<FetchedToken>((resolve) => pending.push(() => resolve({ token, expiresInMs })));
    }, clock.now);
    /** Lets the gettoken requests in progress answer. */
    const answer = async () => {
      await flush();
      for (const resolve of pending.splice(0)) resolve();
      await flush();
    };
    return { clock, cache, fetches: () => n, answer };
  }

  it('reuses the token until a few minutes before it expires, then refreshes while it still serves', async () => {
    const { clock, cache, fetches, answer } = setup();
    const first = cache.get();
    await answer();
    expect(await first).toBe('T1');
    await clock.advance(7_200_000 - 5 * 60_000 - 1);
    expect(await cache.get()).toBe('T1');
    expect(fetches()).toBe(1);
    await clock.advance(1);
    // The refresh starts, but the calls need not wait for it.
    expect(await cache.get()).toBe('T1');
    expect(await cache.get()).toBe('T1');
    expect(fetches()).toBe(2);
    await answer();
    expect(await cache.get()).toBe('T2');
    expect(fetches()).toBe(2);
  });

  it('keeps serving a token whose early refresh failed until it expires, trying again every 30 s', async () => {
    const clock = new FakeClock();
    const outcomes: Array<'fail' | string> = ['T1', 'fail', 'fail', 'T2'];
    let fetches = 0;
    const cache = new TokenCache(async () => {
      fetches += 1;
      const next = outcomes.shift()!;
      if (next === 'fail') throw new Error('gettoken: HTTP 502');
      return { token: next, expiresInMs: 7_200_000 };
    }, clock.now);
    expect(await cache.get()).toBe('T1');
    await clock.advance(7_200_000 - 4 * 60_000);
    expect(await cache.get()).toBe('T1');
    await flush();
    expect(fetches).toBe(2);
    await clock.advance(29_999);
    expect(await cache.get()).toBe('T1');
    await flush();
    expect(fetches).toBe(2);
    await clock.advance(1);
    expect(await cache.get()).toBe('T1');
    await flush();
    expect(fetches).toBe(3);
    // Expired: now the calls wait for a refresh, and would fail with it.
    await clock.advance(4 * 60_000);
    expect(await cache.get()).toBe('T2');
    expect(fetches).toBe(4);
  });

  it('refreshes early once when WeCom hands the same token back, then at its expiry', async () => {
    const clock = new FakeClock();
    const answers = [
      { token: 'T1', expiresInMs: 7_200_000 },
      // WeCom's answer within the token's lifetime: the same token, with the time it has left.
      { token: 'T1', expiresInMs: 5 * 60_000 },
      { token: 'T2', expiresInMs: 7_200_000 },
    ];
    let fetches = 0;
    const cache = new TokenCache(async () => answers[fetches++]!, clock.now);
    expect(await cache.get()).toBe('T1');
    await clock.advance(7_200_000 - 5 * 60_000);
    expect(await cache.get()).toBe('T1');
    await flush();
    expect(fetches).toBe(2);
    // Asked again before it expires, WeCom would only hand the same token back.
    await clock.advance(5 * 60_000 - 1);
    expect(await cache.get()).toBe('T1');
    await flush();
    expect(fetches).toBe(2);
    await clock.advance(1);
    expect(await cache.get()).toBe('T2');
    expect(fetches).toBe(3);
  });

  it('refreshes a short-lived token a tenth of its lifetime early', async () => {
    const { clock, cache, fetches, answer } = setup(10_000);
    const first = cache.get();
    await answer();
    await first;
    await clock.advance(8_999);
    await cache.get();
    expect(fetches()).toBe(1);
    await clock.advance(1);
    void cache.get();
    await answer();
    expect(fetches()).toBe(2);
  });

  it('lets concurrent callers share one refresh', async () => {
    const { cache, fetches, answer } = setup();
    const all = Promise.all([cache.get(), cache.get(), cache.get()]);
    await answer();
    expect(await all).toEqual(['T1', 'T1', 'T1']);
    expect(fetches()).toBe(1);
  });

  it('invalidates only the token that failed, not a newer one', async () => {
    const { cache, fetches, answer } = setup();
    void cache.get();
    await answer();
    cache.invalidate('T1');
    const renewed = cache.get();
    await answer();
    expect(await renewed).toBe('T2');
    cache.invalidate('T1'); // a late failure of a request sent with T1
    expect(await cache.get()).toBe('T2');
    expect(fetches()).toBe(2);
  });

  it('never hands back the token WeCom rejected, even from a refresh already running', async () => {
    const clock = new FakeClock();
    const tokens = ['T1', 'T1', 'T2'];
    const pending: Array<() => void> = [];
    const cache = new TokenCache(() => {
      const token = tokens.shift()!;
      return new Promise<FetchedToken>((resolve) =>
        pending.push(() => resolve({ token, expiresInMs: 7_200_000 })),
      );
    }, clock.now);
    const answer = async () => {
      await flush();
      for (const resolve of pending.splice(0)) resolve();
      await flush();
    };
    const first = cache.get();
    await answer();
    expect(await first).toBe('T1');
    await clock.advance(7_200_000 - 5 * 60_000);
    // An early refresh is under way, and WeCom will answer it with T1, which it still thinks valid...
    const early = cache.get();
    // ... when a request sent with T1 comes back expired.
    const replacement = cache.replace('T1');
    await answer();
    expect(await early).toBe('T1');
    await answer();
    expect(await replacement).toBe('T2');
  });

  it('forgets a failed refresh so the next caller tries again', async () => {
    const clock = new FakeClock();
    let n = 0;
    const cache = new TokenCache(async () => {
      n += 1;
      if (n === 1) throw new Error('boom');
      return { token: 'T', expiresInMs: 7_200_000 };
    }, clock.now);
    await expect(cache.get()).rejects.toThrow('boom');
    expect(await cache.get()).toBe('T');
  });
});

describe('WecomClient tokens (real HTTP)', () => {
  let server: FakeWecom;
  afterEach(() => server?.close());

  it('fetches the token once and reuses it across calls, sending corpid and secret only to gettoken', async () => {
    server = await startWecom({ get_chain_list: () => ok({ chains: [] }) });
    const client = testClient(server);
    await Promise.all([client.getChainList(), client.getChainList(), client.getChainList()]);
    await client.getChainList();
    expect(calls(server, 'gettoken')).toHaveLength(1);
    const [gettoken] = calls(server, 'gettoken');
    expect(gettoken!.query.get('corpid')).toBe(CORP_ID);
    expect(gettoken!.query.get('corpsecret')).toBe(SECRET);
    for (const r of calls(server, 'get_chain_list')) {
      expect(r.query.get('access_token')).toBe('TOKEN-1');
      expect(r.query.has('corpsecret')).toBe(false);
    }
    expect(client.stats().tokenRefreshes).toBe(1);
    await client.close();
  });

  it.each([40014, 42001, 41001])(
    'after %i mid-run: exactly one refresh, and the call succeeds',
    async (code) => {
      server = await startWecom({
        get_chain_list: (req) =>
          req.query.get('access_token') === 'TOKEN-1' ? errcode(code) : ok({ chains: [] }),
        get_chain_group: () => ok({ groups: [] }),
      });
      const client = testClient(server, { maxAttempts: 1 }); // the renewal is not an attempt
      await client.getChainGroups('c1');
      expect(await client.getChainList()).toEqual([]);
      expect(calls(server, 'gettoken')).toHaveLength(2);
      expect(calls(server, 'get_chain_list').map((r) => r.query.get('access_token'))).toEqual([
        'TOKEN-1',
        'TOKEN-2',
      ]);
      expect(client.stats()).toMatchObject({ tokenRefreshes: 2, errors: { get_chain_list: { [code]: 1 } } });
      await client.close();
    },
  );

  it('concurrent calls failing with the same stale token trigger one refresh', async () => {
    server = await startWecom({
      get_chain_group: (req) =>
        req.query.get('access_token') === 'TOKEN-1' ? errcode(42001) : ok({ groups: [] }),
    });
    const client = testClient(server);
    await Promise.all(Array.from({ length: 8 }, () => client.getChainGroups('c')));
    expect(calls(server, 'gettoken')).toHaveLength(2);
    await client.close();
  });

  it('a late failure of a request sent with an old token does not throw away the newer token', async () => {
    let releaseSlow: () => void = () => {};
    const slowAnswered = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    server = await startWecom({
      // The first group call (TOKEN-1) is answered 40014 only after another call renewed the token.
      get_chain_group: async (req, nth) => {
        if (nth === 1) {
          await slowAnswered;
          return errcode(40014);
        }
        return req.query.get('access_token') === 'TOKEN-1' ? errcode(40014) : ok({ groups: [] });
      },
      get_chain_list: (req) =>
        req.query.get('access_token') === 'TOKEN-1' ? errcode(40014) : ok({ chains: [] }),
    });
    const client = testClient(server);
    const slow = client.getChainGroups('c');
    await client.getChainList(); // TOKEN-1 rejected → TOKEN-2
    releaseSlow();
    await slow;
    expect(calls(server, 'gettoken')).toHaveLength(2);
    expect(calls(server, 'get_chain_group').map((r) => r.query.get('access_token'))).toEqual([
      'TOKEN-1',
      'TOKEN-2',
    ]);
    await client.close();
  });

  it('a call whose token expires during an early refresh is not sent again with that token', async () => {
    const clock = new FakeClock();
    const gate = () => Promise.withResolvers<void>();
    const groupAnswered = gate();
    const refreshAnswered = gate();
    server = await startWecom({
      // WeCom hands out the same token while it believes it valid: the early refresh gets TOKEN-1 again.
      gettoken: async (_req, nth) => {
        if (nth === 2) await refreshAnswered.promise;
        return tokenAnswer(nth === 3 ? 'TOKEN-2' : 'TOKEN-1');
      },
      get_chain_group: async (req, nth) => {
        if (nth === 1) await groupAnswered.promise;
        return req.query.get('access_token') === 'TOKEN-1' ? errcode(42001) : ok({ groups: [] });
      },
      get_chain_list: () => ok({ chains: [] }),
    });
    const client = testClient(server, { clock });
    const group = client.getChainGroups('c');
    await until(() => calls(server, 'get_chain_group').length === 1);
    await clock.advance(7_200_000 - 5 * 60_000);
    const list = client.getChainList(); // starts the early refresh
    await until(() => calls(server, 'gettoken').length === 2);
    groupAnswered.resolve(); // TOKEN-1 is rejected while the refresh is still out
    await until(() => client.stats().errors.get_chain_group?.['42001'] === 1);
    refreshAnswered.resolve();
    await Promise.all([group, list]);
    expect(calls(server, 'get_chain_group').map((r) => r.query.get('access_token'))).toEqual([
      'TOKEN-1',
      'TOKEN-2',
    ]);
    await client.close();
  });

  it("a call that waits in the hour window past its token's expiry is sent with a fresh token", async () => {
    const clock = new FakeClock();
    const expiresAt = clock.now() + 7_200_000;
    server = await startWecom({
      get_chain_list: (req) =>
        req.query.get('access_token') === 'TOKEN-1' && clock.now() >= expiresAt
          ? errcode(42001)
          : ok({ chains: [] }),
    });
    const client = testClient(server, { clock, ratePerHour: 2 });
    await client.getChainList(); // fetches TOKEN-1, good for 7,200 s
    await clock.advance(6_500_000); // before its refresh point, and this call has left the hour's window
    await client.getChainList();
    await client.getChainList(); // the hour's window is full
    const fourth = client.getChainList();
    await until(() => clock.slept.some((ms) => ms > 59 * 60_000));
    await clock.advance(3_700_000); // the window has room again, and TOKEN-1 has expired meanwhile
    await fourth;
    expect(calls(server, 'get_chain_list').map((r) => r.query.get('access_token'))).toEqual([
      'TOKEN-1',
      'TOKEN-1',
      'TOKEN-1',
      'TOKEN-2',
    ]);
    expect(client.stats().errors.get_chain_list).toEqual({});
    await client.close();
  });

  it('a second token error for the same call is an error', async () => {
    server = await startWecom({ get_chain_list: () => errcode(40014, 'invalid access_token') });
    const client = testClient(server);
    const error = await client.getChainList().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WecomApiError);
    expect(error).toMatchObject({ errcode: 40014, endpoint: 'get_chain_list' });
    expect(calls(server, 'get_chain_list')).toHaveLength(2);
    expect(calls(server, 'gettoken')).toHaveLength(2);
    await client.close();
  });

  it.each([40001, 40013])(
    'gettoken answering %i → WecomRefusedError, not retried, no secret in it',
    async (code) => {
      server = await startWecom({ gettoken: () => errcode(code, `invalid credential ${SECRET}`) });
      const client = testClient(server, { maxAttempts: 5 });
      const error = await client.getChainList().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WecomRefusedError);
      expect(error).toMatchObject({ errcode: code, endpoint: 'gettoken' });
      expect(calls(server, 'gettoken')).toHaveLength(1);
      expect(calls(server, 'get_chain_list')).toHaveLength(0);
      expect(JSON.stringify({ ...(error as object), message: (error as Error).message })).not.toContain(
        SECRET,
      );
      expect((error as Error).stack).not.toContain(SECRET);
      await client.close();
    },
  );

  it('retries gettoken on transient failures', async () => {
    server = await startWecom({
      gettoken: (_req, nth) =>
        nth === 1 ? { status: 502 } : nth === 2 ? errcode(-1) : tokenAnswer('TOKEN-OK'),
      get_chain_list: () => ok({ chains: [] }),
    });
    const client = testClient(server);
    await client.getChainList();
    expect(calls(server, 'gettoken')).toHaveLength(3);
    expect(client.stats().retries.gettoken).toBe(2);
    await client.close();
  });
});
