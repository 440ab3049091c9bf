// How calls share the client: rate limits per endpoint, the concurrency cap, abort, request shapes.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBE_REFUSALS, type WecomClient } from '../../src/wecom/client.ts';
import { ConcurrencyCap } from '../../src/wecom/concurrency.ts';
import {
  calls,
  errcode,
  FakeClock,
  type FakeWecom,
  flush,
  ok,
  startWecom,
  testClient,
  tokenAnswer,
  until,
} from './helpers.ts';

let server: FakeWecom | undefined;
let client: WecomClient | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

const chains = () => ok({ chains: [] });
const groups = () => ok({ groups: [] });

describe('rate limit and concurrency', () => {
  it('never has more than `concurrency` requests in flight', async () => {
    server = await startWecom({ get_chain_group: () => ({ json: { errcode: 0, groups: [] }, delayMs: 20 }) });
    client = testClient(server, { concurrency: 3 });
    await Promise.all(Array.from({ length: 12 }, (_, i) => client!.getChainGroups(`c${i}`)));
    expect(server.maxInFlight).toBe(3);
  });

  it('limits each endpoint separately; waiting for the window holds no concurrency slot', async () => {
    const clock = new FakeClock();
    server = await startWecom({ get_chain_list: chains, get_chain_group: groups });
    client = testClient(server, { clock, ratePerMinute: 2, concurrency: 1 });
    await client.getChainList();
    await client.getChainList();
    const third = client.getChainList(); // the window is full: waits in the limiter
    // With one slot, these can only finish if the waiting call does not hold it.
    await client.getChainGroups('a');
    await client.getChainGroups('b');
    expect(client.stats().calls.get_chain_list).toBe(2);
    await clock.advance(60_000);
    await third;
    expect(client.stats().calls).toMatchObject({ get_chain_list: 3, get_chain_group: 2, gettoken: 1 });
  });

  it('keeps each endpoint under its hourly cap too, which WeCom blocks for an hour', async () => {
    const clock = new FakeClock();
    server = await startWecom({ get_chain_list: chains });
    client = testClient(server, { clock, ratePerMinute: 10, ratePerHour: 2 });
    const first = clock.now();
    await client.getChainList();
    await client.getChainList();
    const third = client.getChainList();
    // The third call waits in the limiter for the hour, not for the minute (which has room).
    await until(() => clock.slept.some((ms) => ms > 59 * 60_000));
    await clock.advance(first + 60 * 60_000 + 1_000 - clock.now());
    await third;
    expect(calls(server, 'get_chain_list')).toHaveLength(3);
  });

  it("counts earlier processes' calls against the hour, as late as WeCom's minute lets them be", async () => {
    const clock = new FakeClock();
    server = await startWecom({ get_chain_list: chains });
    // 20,000 calls that ended 10 minutes ago. An earlier run may have had a higher cap than this client's
    // 10 a minute, but not more than WeCom's 10,000: 10,000 then, 10,000 a minute before.
    client = testClient(server, {
      clock,
      ratePerMinute: 10,
      ratePerHour: 20_000,
      priorCalls: [{ endpoint: 'get_chain_list', calls: 20_000, ageMs: 10 * 60_000 }],
    });
    const first = client.getChainList();
    await until(() => clock.slept.length > 0);
    // The earlier 10,000 leave the hour 49 minutes (and a tick) from now, not 50.
    await clock.advance(49 * 60_000 - 1_000);
    expect(calls(server, 'get_chain_list')).toHaveLength(0);
    await clock.advance(2_000);
    await first;
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
  });

  it('counts the calls of earlier processes against the hour, each run ending when it ended', async () => {
    const clock = new FakeClock();
    server = await startWecom({ get_chain_list: chains, get_chain_group: groups });
    client = testClient(server, {
      clock,
      ratePerMinute: 10,
      ratePerHour: 5,
      priorCalls: [
        { endpoint: 'get_chain_list', calls: 3, ageMs: 40 * 60_000 },
        { endpoint: 'get_chain_list', calls: 1, ageMs: 10 * 60_000 },
        { endpoint: 'get_chain_list', calls: 50, ageMs: 61 * 60_000 }, // out of the hour: ignored
        { endpoint: 'no_such_endpoint', calls: 50, ageMs: 0 },
      ],
    });
    await client.getChainList(); // the hour's fifth call
    const sixth = client.getChainList();
    await client.getChainGroups('c'); // another endpoint: its own hour, untouched
    await until(() => clock.slept.length > 0);
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
    // It fits once the three calls of 40 minutes ago leave the hour, 20 minutes (and a tick) from now.
    await clock.advance(20 * 60_000 - 1_000);
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
    await clock.advance(2_000);
    await sixth;
    expect(calls(server, 'get_chain_list')).toHaveLength(2);
  });

  const page = { chainId: 'c', groupid: null, cursor: '', limit: 10 };
  const settled = (p: Promise<unknown>, name: string) =>
    p.then(
      () => name,
      (err: Error) => `${name}: ${err.name}`,
    );

  it("a call's own signal ends it at once while it waits for the token", async () => {
    server = await startWecom({
      gettoken: (_req, nth) => ({ ...tokenAnswer(`TOKEN-${nth}`), delayMs: 1_000 }),
      get_chain_list: chains,
    });
    client = testClient(server);
    // The token is on its way (one second): the call stops waiting for it when aborted.
    const waitingForToken = new AbortController();
    const first = client.listCorps(page, waitingForToken.signal);
    const other = client.getChainList(); // waits for the same token, then answers
    await until(() => server!.requests.some((r) => r.endpoint === 'gettoken'));
    waitingForToken.abort();
    expect(await settled(first, 'aborted call')).toBe('aborted call: AbortError');
    expect(client.stats().tokenRefreshes).toBe(0); // settled before the token came
    await other;
  });

  it("a call's own signal ends it at once while it waits for a token renewed after 42001", async () => {
    server = await startWecom({
      gettoken: (_req, nth) => ({ ...tokenAnswer(`TOKEN-${nth}`), delayMs: nth === 2 ? 1_000 : 0 }),
      get_chain_list: chains,
      get_chain_corpinfo_list: (_req, nth) =>
        nth === 1 ? errcode(42001) : ok({ group_corps: [], has_more: false }),
    });
    client = testClient(server);
    await client.getChainList(); // the first token
    const renewing = new AbortController();
    const call = client.listCorps(page, renewing.signal);
    await until(() => calls(server!, 'gettoken').length === 2);
    renewing.abort();
    expect(await settled(call, 'aborted call')).toBe('aborted call: AbortError');
    expect(client.stats().tokenRefreshes).toBe(1); // settled before the renewed token came
  });

  it("a call's own signal ends it at once while it waits for a concurrency slot", async () => {
    server = await startWecom({
      get_chain_list: chains,
      get_chain_group: () => ({ json: { errcode: 0, groups: [] }, delayMs: 1_000 }),
      get_chain_corpinfo_list: () => ok({ group_corps: [], has_more: false }),
    });
    client = testClient(server, { concurrency: 1 });
    await client.getChainList(); // the token, fetched
    // The one slot is held for a second: the queued call leaves the queue when aborted.
    const holder = client.getChainGroups('c');
    await until(() => server!.requests.some((r) => r.endpoint === 'get_chain_group'));
    const queuedForSlot = new AbortController();
    const queued = client.listCorps(page, queuedForSlot.signal);
    await flush(); // the token is cached and the window has room: the call is now queued for the slot
    queuedForSlot.abort();
    expect(await settled(queued, 'queued call')).toBe('queued call: AbortError');
    expect(server.inFlight).toBe(1); // settled while the slot's request was still out
    await holder;
    // Its place in the queue came and went without a request.
    expect(calls(server, 'get_chain_corpinfo_list')).toHaveLength(0);
  });

  it('a backoff sleep holds no concurrency slot', async () => {
    const clock = new FakeClock();
    server = await startWecom({
      get_chain_list: (_req, nth) => (nth === 1 ? errcode(-1) : chains()),
      get_chain_group: groups,
    });
    client = testClient(server, {
      clock,
      concurrency: 1,
      backoffBaseMs: 1_000,
      backoffMaxMs: 1_000,
      random: () => 0.5,
    });
    const list = client.getChainList();
    await until(() => clock.slept.includes(500));
    await client.getChainGroups('a'); // runs while the list call sleeps
    await clock.advance(500);
    await list;
    expect(calls(server, 'get_chain_list')).toHaveLength(2);
  });
});

describe('45033 from WeCom', () => {
  it('sends fewer requests at once after it, and as many as allowed again once calls succeed', async () => {
    // In flight as each get_chain_group request arrives, itself included.
    const inFlight: number[] = [];
    server = await startWecom({
      get_chain_group: (_req, nth) => {
        inFlight.push(server!.inFlight);
        return nth <= 3 ? errcode(45033) : { json: { errcode: 0, groups: [] }, delayMs: 20 };
      },
    });
    client = testClient(server, { concurrency: 4 });
    await Promise.all(Array.from({ length: 24 }, (_, i) => client!.getChainGroups(`c${i}`)));
    // Three 45033s take the cap from 4 to 1; it grows back by one per `cap` successes.
    expect(Math.max(...inFlight.slice(4, 8))).toBeLessThanOrEqual(2);
    expect(Math.max(...inFlight.slice(-8))).toBe(4);
    expect(server.maxInFlight).toBe(4);
  });
});

describe('45033 and the attempts of a call', () => {
  it('costs no attempt while it lowers the cap; at a cap of 1 it is an attempt like any failure', async () => {
    server = await startWecom({ get_chain_group: () => errcode(45033) });
    client = testClient(server, { concurrency: 4, maxAttempts: 2 });
    await expect(client.getChainGroups('c')).rejects.toMatchObject({ errcode: 45033 });
    // Three that take the cap from 4 to 1, then the call's two attempts.
    expect(calls(server, 'get_chain_group')).toHaveLength(5);
    expect(client.stats().retries.get_chain_group).toBe(4);
  });

  it('ends a call refused for ever while other calls keep raising the cap again', async () => {
    server = await startWecom({
      get_chain_group: () => errcode(45033),
      get_chain_list: () => ({ json: { errcode: 0, chains: [] }, delayMs: 2 }),
    });
    client = testClient(server, { concurrency: 4, maxAttempts: 2 });
    const refused = client.getChainGroups('c');
    let settled = false;
    const ended = refused.then(
      () => (settled = true),
      () => (settled = true),
    );
    // Calls that succeed all along: each `cap` of them raises the cap the refusals lower.
    while (!settled) await client.getChainList();
    await ended;
    await expect(refused).rejects.toMatchObject({ errcode: 45033 });
    // At most the cap's way down (4) and PROBE_REFUSALS free retries, then the call's two attempts.
    const sent = calls(server, 'get_chain_group').length;
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(sent).toBeLessThanOrEqual(4 + PROBE_REFUSALS + 2);
  });

  it('lets a call refused more times than its attempts succeed while the cap comes down', async () => {
    server = await startWecom({
      get_chain_group: (_req, nth) => (nth <= 5 ? errcode(45033) : ok({ groups: [] })),
    });
    client = testClient(server, { concurrency: 8, maxAttempts: 2 });
    expect(await client.getChainGroups('c')).toEqual([]);
    expect(client.stats().errors.get_chain_group).toEqual({ '45033': 5 });
  });
});

describe('ConcurrencyCap', () => {
  it('lowers the cap by one per 45033, never below 1, and recovers after enough successes', () => {
    const cap = new ConcurrencyCap(4);
    expect(cap.overloaded(cap.current)).toBe(true);
    expect(cap.overloaded(cap.current)).toBe(true);
    expect(cap.current).toBe(2);
    expect(cap.overloaded(cap.current)).toBe(true);
    for (let i = 0; i < 4; i++) expect(cap.overloaded(cap.current)).toBe(false);
    expect(cap.current).toBe(1);
    cap.succeeded();
    expect(cap.current).toBe(2);
    cap.succeeded();
    expect(cap.current).toBe(2);
    cap.succeeded();
    expect(cap.current).toBe(3);
    for (let i = 0; i < 100; i++) cap.succeeded();
    expect(cap.current).toBe(4);
  });
});

describe('abort', () => {
  it('rejects a call sleeping in backoff at once, and sends nothing more', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    server = await startWecom({ get_chain_list: () => errcode(-1) });
    client = testClient(server, { clock, signal: controller.signal, maxAttempts: 5 });
    const call = client.getChainList();
    await until(() => clock.pendingTimers === 1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    await clock.advance(60_000);
    expect(calls(server, 'get_chain_list')).toHaveLength(1);
    await expect(client.getChainGroups('c')).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.requests).toHaveLength(2); // gettoken + the one list call
  });

  it('rejects calls waiting for the rate limit and calls in flight', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    server = await startWecom({
      get_chain_list: chains,
      get_chain_group: () => ({ json: { errcode: 0, groups: [] }, delayMs: 5_000 }),
    });
    client = testClient(server, { clock, signal: controller.signal, ratePerMinute: 1 });
    await client.getChainList();
    const waiting = client.getChainList();
    const inFlight = client.getChainGroups('c');
    await until(() => server!.requests.some((r) => r.endpoint === 'get_chain_group'));
    const started = Date.now();
    controller.abort(new Error('shutting down'));
    await expect(waiting).rejects.toThrow('shutting down');
    await expect(inFlight).rejects.toThrow('shutting down');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('requests', () => {
  it('sends the documented methods and bodies', async () => {
    server = await startWecom({
      get_chain_list: chains,
      get_chain_group: groups,
      get_chain_corpinfo_list: () => ok({ group_corps: [], has_more: false }),
      get_chain_corpinfo: () => ok({ corp_name: 'x', groupid: 1, is_joined: true }),
    });
    client = testClient(server);
    await client.getChainList();
    await client.getChainGroups('c1');
    await client.listCorps({ chainId: 'c1', groupid: null, cursor: '', limit: 500 });
    await client.listCorps({ chainId: 'c1', groupid: 7, cursor: 'next', limit: 500 });
    await client.getCorpInfo({ chainId: 'c1', corpid: 'wwa' });
    const seen = server.requests.map((r) => [r.endpoint, r.method, r.body]);
    expect(seen).toEqual([
      ['gettoken', 'GET', null],
      ['get_chain_list', 'GET', null],
      ['get_chain_group', 'POST', { chain_id: 'c1' }],
      ['get_chain_corpinfo_list', 'POST', { chain_id: 'c1', need_pending: true, cursor: '', limit: 500 }],
      [
        'get_chain_corpinfo_list',
        'POST',
        { chain_id: 'c1', groupid: 7, need_pending: true, cursor: 'next', limit: 500 },
      ],
      ['get_chain_corpinfo', 'POST', { chain_id: 'c1', corpid: 'wwa' }],
    ]);
  });

  it('keeps a path prefix of apiBase', async () => {
    // A reverse proxy that serves WeCom under /proxy only, and says which paths it was asked for.
    const paths: string[] = [];
    const proxy = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      paths.push(path);
      const answers: Record<string, object> = {
        '/proxy/cgi-bin/gettoken': { errcode: 0, access_token: 'TOKEN', expires_in: 7200 },
        '/proxy/cgi-bin/corpgroup/corp/get_chain_list': { errcode: 0, chains: [] },
      };
      res.writeHead(answers[path] ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answers[path] ?? {}));
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = proxy.address() as AddressInfo;
      server = await startWecom({});
      client = testClient(server, { apiBase: `http://127.0.0.1:${port}/proxy/`, maxAttempts: 1 });
      expect(await client.getChainList()).toEqual([]);
      expect(paths).toEqual(['/proxy/cgi-bin/gettoken', '/proxy/cgi-bin/corpgroup/corp/get_chain_list']);
      await client.close();
      client = undefined;
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('returns stats as a snapshot', async () => {
    server = await startWecom({ get_chain_list: chains });
    client = testClient(server);
    const before = client.stats();
    await client.getChainList();
    expect(before.calls.get_chain_list).toBe(0);
    expect(client.stats().calls.get_chain_list).toBe(1);
    expect(JSON.parse(JSON.stringify(client.stats()))).toEqual(client.stats());
  });
});
