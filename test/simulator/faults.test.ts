import { afterAll, describe, expect, it } from 'vitest';
import {
  type Fault,
  type SimEndpoint,
  SimNetwork,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.ts';
import { CORP_ID, call, FakeClock, getToken, SECRET } from './helpers.ts';

const network = SimNetwork.generate({
  seed: 9,
  chains: 2,
  groups: 10,
  corps: 200,
  pendingRatio: 0.2,
  maxDepth: 3,
});
const chainIds = [...network.chains.keys()];
const chainA = chainIds[0]!;
const chainB = chainIds[1]!;

const open: Simulator[] = [];
async function start(options: Partial<SimulatorOptions> = {}): Promise<{ sim: Simulator; token: string }> {
  const sim = await startSimulator({ network, corpId: CORP_ID, corpSecret: SECRET, ...options });
  open.push(sim);
  return { sim, token: await getToken(sim) };
}
afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
});

const listBody = (chain_id = chainA) => ({ chain_id, need_pending: true });

/** 'ok', an errcode, 'http <status>', 'dropped', 'bad json' or 'bad schema': what the client saw. */
async function outcome(
  sim: Simulator,
  token: string,
  endpoint: SimEndpoint = 'get_chain_corpinfo_list',
  body: object = listBody(),
) {
  try {
    const answer = await call(sim, endpoint, { token, body });
    if (answer.status !== 200) return `http ${answer.status}`;
    if (answer.json === undefined) return 'bad json';
    if (answer.json.errcode !== 0) return answer.json.errcode as number;
    const rows = answer.json.group_corps;
    if (
      endpoint === 'get_chain_corpinfo_list' &&
      rows.some((r: { corp_name: unknown }) => typeof r.corp_name !== 'string')
    ) {
      return 'bad schema';
    }
    return 'ok';
  } catch {
    return 'dropped';
  }
}

async function outcomes(sim: Simulator, token: string, n: number, endpoint?: SimEndpoint, body?: object) {
  const seen: unknown[] = [];
  for (let i = 0; i < n; i++) seen.push(await outcome(sim, token, endpoint, body));
  return seen;
}

describe('scripted faults', () => {
  const kinds: [Fault, unknown][] = [
    [{ errcode: -1 }, -1],
    [{ errcode: 60011 }, 60011],
    [{ errcode: 48002 }, 48002],
    [{ errcode: 50100 }, 50100],
    [{ errcode: 45033 }, 45033],
    [{ httpStatus: 502 }, 'http 502'],
    [{ httpStatus: 429 }, 'http 429'],
    [{ drop: true }, 'dropped'],
    [{ malformed: 'json' }, 'bad json'],
    [{ malformed: 'schema' }, 'bad schema'],
  ];
  it.each(kinds)('%j fires exactly `count` times, then the endpoint works again', async (fault, expected) => {
    const { sim, token } = await start();
    sim.faults.inject({ endpoint: 'get_chain_corpinfo_list', count: 2, fault });
    expect(sim.faults.pending()).toBe(2);
    expect(await outcome(sim, token, 'get_chain_group', { chain_id: chainA })).toBe('ok'); // other endpoint
    expect(await outcomes(sim, token, 4)).toEqual([expected, expected, 'ok', 'ok']);
    expect(sim.faults.pending()).toBe(0);
    expect(sim.calls.get_chain_corpinfo_list).toBe(4);
  });

  it('a 502 looks like a proxy page, a schema fault keeps errcode 0', async () => {
    const { sim, token } = await start();
    sim.faults.inject({ endpoint: 'get_chain_list', count: 1, fault: { httpStatus: 502 } });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo', count: 1, fault: { malformed: 'schema' } });
    const bad = await call(sim, 'get_chain_list', { token });
    expect(bad.text).toContain('502 Bad Gateway');
    const corp = [...network.chains.get(chainA)!.corps.values()].find((c) => c.corpid)!;
    const detail = await call(sim, 'get_chain_corpinfo', {
      token,
      body: { chain_id: chainA, corpid: corp.corpid },
    });
    expect(detail.json.errcode).toBe(0);
    expect(typeof detail.json.corp_name).not.toBe('string');
  });

  it('a delay answers correctly but late enough for a client timeout', async () => {
    const { sim, token } = await start();
    sim.faults.inject({ endpoint: 'get_chain_list', count: 1, fault: { delayMs: 2000 } });
    const late = call(sim, 'get_chain_list', { token, signal: AbortSignal.timeout(100) });
    await expect(late).rejects.toThrow();
    const started = Date.now();
    expect((await call(sim, 'get_chain_list', { token })).json.errcode).toBe(0);
    expect(Date.now() - started).toBeLessThan(1000);
    sim.faults.inject({ endpoint: 'get_chain_list', count: 1, fault: { delayMs: 150 } });
    const slow = Date.now();
    expect((await call(sim, 'get_chain_list', { token })).json.errcode).toBe(0);
    expect(Date.now() - slow).toBeGreaterThanOrEqual(140);
  });

  it('fires only for requests that match, in the order injected; Infinity lasts until clear()', async () => {
    const { sim, token } = await start();
    const groupid = [...network.chains.get(chainA)!.groups.keys()][0]!;
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo_list',
      count: 1,
      fault: { errcode: -1 },
      match: { chainId: chainB },
    });
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo_list',
      count: 1,
      fault: { errcode: 60011 },
      match: { groupid },
    });
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo_list',
      count: 1,
      fault: { errcode: 48002 },
      match: { groupid: 1 },
    });
    expect(await outcome(sim, token, undefined, { chain_id: chainA, groupid })).toBe(60011);
    expect(await outcome(sim, token, undefined, { chain_id: chainA, groupid })).toBe('ok');
    expect(await outcome(sim, token, undefined, listBody(chainB))).toBe(-1);
    expect(await outcome(sim, token, undefined, listBody(chainA))).toBe(48002); // no groupid = root
    expect(sim.faults.pending()).toBe(0);
    sim.faults.inject({
      endpoint: 'get_chain_group',
      count: Number.POSITIVE_INFINITY,
      fault: { errcode: -1 },
    });
    expect(sim.faults.pending()).toBe(Number.POSITIVE_INFINITY);
    expect(await outcomes(sim, token, 3, 'get_chain_group', { chain_id: chainA })).toEqual([-1, -1, -1]);
    sim.faults.clear();
    expect(await outcome(sim, token, 'get_chain_group', { chain_id: chainA })).toBe('ok');
  });

  it('rejects nonsense rules', async () => {
    const { sim } = await start();
    expect(() =>
      sim.faults.inject({ endpoint: 'nope' as SimEndpoint, count: 1, fault: { errcode: -1 } }),
    ).toThrow();
    expect(() => sim.faults.inject({ endpoint: 'gettoken', count: -1, fault: { errcode: -1 } })).toThrow();
    expect(() => sim.faults.inject({ endpoint: 'gettoken', count: 1, fault: { errcode: 0 } })).toThrow();
    expect(() => sim.faults.inject({ endpoint: 'gettoken', count: 1, fault: {} as Fault })).toThrow();
  });
});

describe('random faults', () => {
  it('are seeded: same seed, same sequence; off again with null', async () => {
    const runs: unknown[][] = [];
    for (const seed of [42, 42, 43]) {
      const { sim, token } = await start({ seed });
      sim.faults.setRandom({ rate: 0.5, kinds: [{ errcode: -1 }, { errcode: 45033 }, { httpStatus: 502 }] });
      runs.push(await outcomes(sim, token, 24));
      sim.faults.setRandom(null);
      expect(await outcomes(sim, token, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    }
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[0]).not.toEqual(runs[2]);
    const failures = runs[0]!.filter((o) => o !== 'ok').length;
    expect(failures).toBeGreaterThan(4);
    expect(failures).toBeLessThan(20);
  });

  it('default kinds include dropped connections, and can be limited to some endpoints', async () => {
    const { sim, token } = await start({ seed: 7 });
    sim.faults.setRandom({ rate: 1, endpoints: ['get_chain_corpinfo_list'] });
    const seen = new Set(await outcomes(sim, token, 40));
    expect(seen).toEqual(new Set([-1, 45033, 'http 502', 'dropped']));
    expect(await outcome(sim, token, 'get_chain_list')).toBe('ok');
  });
});

describe('limits', () => {
  it('an injected 45009 blocks the endpoint for the whole block time, like a real one', async () => {
    const clock = new FakeClock();
    const { sim, token } = await start({ now: clock.now, rateLimitBlockMs: 1000 });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo_list', count: 1, fault: { errcode: 45009 } });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo_list', count: 1, fault: { errcode: -1 } });
    expect(await outcomes(sim, token, 3)).toEqual([45009, 45009, 45009]);
    expect(sim.faults.pending()).toBe(1); // blocked calls never reached the next fault
    expect(await outcome(sim, token, 'get_chain_list')).toBe('ok');
    clock.advance(999);
    expect(await outcome(sim, token)).toBe(45009);
    clock.advance(1);
    expect(await outcomes(sim, token, 2)).toEqual([-1, 'ok']);
  });

  it('the per-minute limit answers 45009 past the limit, per endpoint, and counts refused calls', async () => {
    const clock = new FakeClock();
    const { sim, token } = await start({ now: clock.now, rateLimitPerMin: 5, rateLimitBlockMs: 60_000 });
    sim.resetCalls();
    expect(await outcomes(sim, token, 7)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 45009, 45009]);
    expect(sim.calls.get_chain_corpinfo_list).toBe(7);
    expect(await outcome(sim, token, 'get_chain_list')).toBe('ok');
    clock.advance(59_999);
    expect(await outcome(sim, token)).toBe(45009);
    clock.advance(1);
    expect(await outcomes(sim, token, 5)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await outcome(sim, token)).toBe(45009);
  });

  it('the per-hour limit answers 45009 past it, and the endpoint stays blocked for an hour', async () => {
    const clock = new FakeClock();
    const { sim, token } = await start({ now: clock.now, rateLimitPerMin: 3, rateLimitPerHour: 5 });
    expect(await outcomes(sim, token, 3)).toEqual(['ok', 'ok', 'ok']);
    clock.advance(60_000);
    expect(await outcomes(sim, token, 3)).toEqual(['ok', 'ok', 45009]);
    clock.advance(60 * 60_000 - 1); // an hour from the call that crossed the limit
    expect(await outcome(sim, token)).toBe(45009);
    clock.advance(1);
    expect(await outcomes(sim, token, 3)).toEqual(['ok', 'ok', 'ok']);
  });

  it('a window that passes without crossing the limit starts afresh', async () => {
    const clock = new FakeClock();
    const { sim, token } = await start({ now: clock.now, rateLimitPerMin: 3 });
    expect(await outcomes(sim, token, 3)).toEqual(['ok', 'ok', 'ok']);
    clock.advance(60_000);
    expect(await outcomes(sim, token, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(await outcome(sim, token)).toBe(45009);
  });

  it('too many requests in flight get 45033, and inFlightMax records the peak', async () => {
    const { sim, token } = await start({ latencyMs: 300, maxConcurrent: 4 });
    sim.resetCalls();
    const results = await Promise.all(
      Array.from({ length: 12 }, () => outcome(sim, token, 'get_chain_list')),
    );
    expect(results.filter((r) => r === 'ok')).toHaveLength(4);
    expect(results.filter((r) => r === 45033)).toHaveLength(8);
    expect(sim.inFlightMax).toBe(12);
    expect(sim.calls.get_chain_list).toBe(12);
    expect(await outcome(sim, token, 'get_chain_list')).toBe('ok');
  });
});
