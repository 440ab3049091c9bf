// Retries and failure classification against a scripted WeCom server over real HTTP.
import { afterEach, describe, expect, it } from 'vitest';
import type { WecomClient } from '../../src/wecom/client.ts';
import { WecomApiError, WecomRefusedError, WecomTransportError } from '../../src/wecom/errors.ts';
import { MAX_ERROR_KEYS } from '../../src/wecom/stats.ts';
import {
  type Answer,
  calls,
  errcode,
  FakeClock,
  type FakeWecom,
  ok,
  startWecom,
  type TestClientOptions,
  testClient,
} from './helpers.ts';

const CHAINS = [{ chain_id: 'c1', chain_name: '能源供应链' }];

let server: FakeWecom | undefined;
let client: WecomClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

/** get_chain_list answers `first` (a list, one per attempt) and then succeeds. */
async function chainListAfter(first: Answer[], options: TestClientOptions = {}) {
  server = await startWecom({ get_chain_list: (_req, nth) => first[nth - 1] ?? ok({ chains: CHAINS }) });
  client = testClient(server, options);
  return { server, client };
}

describe('transient failures are retried', () => {
  it.each<[string, Answer, string]>([
    ['errcode -1', errcode(-1, 'system busy'), '-1'],
    ['errcode 45033', errcode(45033), '45033'],
    ['HTTP 502', { status: 502 }, 'http_502'],
    ['HTTP 503', { status: 503 }, 'http_503'],
    ['HTTP 429', { status: 429 }, 'http_429'],
    ['a dropped connection', { drop: true }, 'network'],
    [
      'a body cut short',
      { truncate: JSON.stringify({ errcode: 0, errmsg: 'ok', chains: CHAINS }) },
      'network',
    ],
    ['a non-JSON 200 body', { text: '<html>gateway</html>' }, 'invalid_response'],
  ])('%s, then ok', async (_name, failure, key) => {
    const { server, client } = await chainListAfter([failure]);
    expect(await client.getChainList()).toEqual([{ chainId: 'c1', chainName: '能源供应链' }]);
    expect(calls(server, 'get_chain_list')).toHaveLength(2);
    const stats = client.stats();
    expect(stats.calls.get_chain_list).toBe(2);
    expect(stats.retries.get_chain_list).toBe(1);
    expect(stats.errors.get_chain_list).toEqual({ [key]: 1 });
  });

  it('a timeout (the server delays its first answer), then ok', async () => {
    const { server, client } = await chainListAfter([{ json: { errcode: 0, chains: [] }, delayMs: 1_000 }], {
      timeoutMs: 100,
    });
    const started = Date.now();
    expect(await client.getChainList()).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(900);
    expect(calls(server, 'get_chain_list')).toHaveLength(2);
    expect(client.stats().errors.get_chain_list).toEqual({ timeout: 1 });
  });

  it('the timeout covers the body: headers on time, body never finished', async () => {
    const { client } = await chainListAfter([{ stallBody: true }], { timeoutMs: 100 });
    expect(await client.getChainList()).toHaveLength(1);
    expect(client.stats().errors.get_chain_list).toEqual({ timeout: 1 });
  });

  it('the timeout covers the whole body, not just the gaps between chunks', async () => {
    const slow = { drip: { errcode: 0, chains: [] }, everyMs: 20 }; // ~0.5 s in all, never idle 100 ms
    const { client } = await chainListAfter([slow], { timeoutMs: 150 });
    expect(await client.getChainList()).toHaveLength(1);
    expect(client.stats().errors.get_chain_list).toEqual({ timeout: 1 });
  });

  it('a refused connection is retried, then reported as a transport error', async () => {
    // A port with nothing listening: take one from a server and close it.
    const closed = await startWecom({});
    await closed.close();
    client = testClient(closed, { maxAttempts: 2 });
    const error = await client.getChainList().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WecomTransportError);
    expect((error as Error).message).toMatch(/^\/cgi-bin\/gettoken: connection failed \(ECONNREFUSED\)$/);
    expect(client.stats().retries.gettoken).toBe(1);
  });

  it('waits with capped exponential backoff and full jitter between attempts', async () => {
    const slept: number[] = [];
    const busy = errcode(-1);
    await chainListAfter([busy, busy, busy, busy], {
      maxAttempts: 5,
      backoffBaseMs: 100,
      backoffMaxMs: 300,
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await client!.getChainList();
    expect(slept).toEqual([50, 100, 150, 150]);
  });

  it.each([429, 503])('honours Retry-After on %i instead of the backoff', async (status) => {
    const slept: number[] = [];
    await chainListAfter([{ status, headers: { 'retry-after': '2' } }], {
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await client!.getChainList();
    expect(slept).toEqual([2_000]);
  });
});

describe('giving up', () => {
  it.each<[string, Answer, typeof WecomApiError | typeof WecomTransportError, object]>([
    ['errcode -1', errcode(-1), WecomApiError, { errcode: -1, errmsg: 'error -1' }],
    ['HTTP 502', { status: 502 }, WecomTransportError, { httpStatus: 502 }],
    ['a dropped connection', { drop: true }, WecomTransportError, { httpStatus: null }],
    ['errcode 45009', errcode(45009), WecomApiError, { errcode: 45009 }],
  ])('after maxAttempts of %s: the last error, as %o', async (_name, failure, errorClass, fields) => {
    const clock = new FakeClock(); // 45009 pauses the endpoint for a minute: the fake clock skips it
    const { server, client } = await chainListAfter([failure, failure, failure], { clock });
    const error = await settleWith(clock, client.getChainList());
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ endpoint: 'get_chain_list', ...fields });
    expect(calls(server, 'get_chain_list')).toHaveLength(3);
    expect(client.stats().retries.get_chain_list).toBe(2);
  });

  it.each<[number, typeof WecomApiError]>([
    [60011, WecomApiError],
    [50100, WecomApiError],
    [99999, WecomApiError],
    [48002, WecomRefusedError],
    [60020, WecomRefusedError],
  ])('errcode %i is not retried: %o', async (code, errorClass) => {
    const { server, client } = await chainListAfter([errcode(code, 'no privilege')]);
    const error = await client.getChainList().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ errcode: code, errmsg: 'no privilege', endpoint: 'get_chain_list' });
    expect((error as Error).message).toContain('get_chain_list');
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
    expect(client.stats().errors.get_chain_list).toEqual({ [code]: 1 });
  });

  it('an HTTP 404 (wrong apiBase) is not retried', async () => {
    const { server, client } = await chainListAfter([{ status: 404 }]);
    await expect(client.getChainList()).rejects.toMatchObject({
      name: 'WecomTransportError',
      httpStatus: 404,
    });
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
  });

  it('an answer over 64 MB is not retried, and the error says so', async () => {
    const name = 'x'.repeat(1_000);
    const chains = Array.from({ length: 68_000 }, (_, i) => ({ chain_id: `c${i}`, chain_name: name }));
    // Time enough to send it all: only its size may fail it.
    const { server, client } = await chainListAfter([{ json: { errcode: 0, errmsg: 'ok', chains } }], {
      timeoutMs: 30_000,
    });
    await expect(client.getChainList()).rejects.toThrow(
      '/cgi-bin/corpgroup/corp/get_chain_list: answer larger than 64 MB',
    );
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
  });
});

describe('error counts', () => {
  it('count a server that answers each call with a code of its own in MAX_ERROR_KEYS keys, then as other', async () => {
    server = await startWecom({ get_chain_corpinfo: (_req, nth) => errcode(70_000 + nth) });
    client = testClient(server, { maxAttempts: 1 });
    const n = MAX_ERROR_KEYS + 8;
    for (let i = 0; i < n; i++) {
      await expect(client.getCorpInfo({ chainId: 'c1', corpid: `ww${i}` })).rejects.toThrow();
    }
    const counted = client.stats().errors.get_chain_corpinfo!;
    expect(Object.keys(counted)).toHaveLength(MAX_ERROR_KEYS + 1);
    expect(counted).toMatchObject({ '70001': 1, [String(70_000 + MAX_ERROR_KEYS)]: 1, other: 8 });
  });
});

describe('45009', () => {
  it('pauses that endpoint only, for rateLimitPauseMs, then retries', async () => {
    const clock = new FakeClock();
    server = await startWecom({
      get_chain_list: (_req, nth) =>
        nth === 1 ? errcode(45009, 'api freq out of limit') : ok({ chains: [] }),
      get_chain_group: () => ok({ groups: [] }),
    });
    client = testClient(server, { clock, rateLimitPauseMs: 60_000, maxAttempts: 2 });
    const first = client.getChainList();
    await untilStats(client, () => client!.stats().errors.get_chain_list?.['45009'] === 1);
    const second = client.getChainList(); // a fresh call to the paused endpoint waits too
    expect(await client.getChainGroups('c1')).toEqual([]); // another endpoint is not paused
    await clock.advance(59_999);
    expect(client.stats().calls.get_chain_list).toBe(1);
    await clock.advance(1);
    await Promise.all([first, second]);
    expect(client.stats().calls.get_chain_list).toBe(3);
    expect(clock.slept).toEqual([60_000]); // one limiter timer for the pause, no backoff on top
  });
});

describe('45009 without attempts left', () => {
  it('still pauses the endpoint for the other calls', async () => {
    const clock = new FakeClock();
    server = await startWecom({
      get_chain_list: (_req, nth) => (nth === 1 ? errcode(45009) : ok({ chains: [] })),
    });
    client = testClient(server, { clock, maxAttempts: 1 });
    await expect(client.getChainList()).rejects.toMatchObject({ errcode: 45009 });
    const next = client.getChainList();
    await clock.advance(59_999);
    expect(client.stats().calls.get_chain_list).toBe(1);
    await clock.advance(1);
    await next;
    expect(client.stats().calls.get_chain_list).toBe(2);
  });
});

/**
 * Advances the fake clock until `call` settles, giving real sockets a moment between steps: the clock
 * only drives the client's waits, the HTTP exchanges take real time.
 */
async function settleWith(clock: FakeClock, call: Promise<unknown>): Promise<unknown> {
  let settled = false;
  const result = call.then(
    (value) => value,
    (error: unknown) => error,
  );
  void result.finally(() => {
    settled = true;
  });
  for (let i = 0; i < 200 && !settled; i++) {
    await clock.advance(60_000);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return result;
}

/** Waits (real time) for the client to reach a state: only the sockets are real here. */
async function untilStats(_client: WecomClient, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('state not reached');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
