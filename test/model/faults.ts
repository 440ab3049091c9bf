// The trouble a run meets: faults the simulator plays (a chain list or a chain that keeps failing, a
// refused get_chain_corpinfo, random transient errors, a 45009 window), and interruptions on the crawl's
// own calls (tokens revoked or expired, the network changing mid-crawl, the run aborted). The plan says
// what the model must expect: which chains cannot complete, which details are refused.
import type { Simulator } from '../../src/simulator/index.ts';
import type { Rng } from '../../src/simulator/random.ts';
import type { ChainApi } from '../../src/sync/api.ts';
import type { ApiStats, WecomClient } from '../../src/wecom/client.ts';
import { WecomResponseError } from '../../src/wecom/errors.ts';
import { corpKey } from '../../src/wecom/types.ts';
import { mutateMidCrawl } from './mutations.ts';
import type { World } from './network.ts';

export interface FaultPlan {
  /** get_chain_list always fails: nothing may change. */
  listFails: boolean;
  /** Chains whose crawl always fails: they keep exactly the rows they had. */
  failingChains: Set<string>;
  /** Per chain, corps whose get_chain_corpinfo is refused once (60136, undocumented). */
  refusedDetails: Map<string, Set<string>>;
  /** For the failure message. */
  described: string[];
}

/** Plans and installs this round's simulator faults; none when faults are off or in the first run. */
export function planFaults(w: World, sim: Simulator, enabled: boolean): FaultPlan {
  const plan: FaultPlan = {
    listFails: false,
    failingChains: new Set(),
    refusedDetails: new Map(),
    described: [],
  };
  sim.faults.clear();
  if (!enabled) return plan;
  const { rng } = w;
  if (rng.chance(0.05)) {
    plan.listFails = true;
    sim.faults.inject({ endpoint: 'get_chain_list', count: Infinity, fault: { errcode: 60003 } });
    plan.described.push('list-fail');
  }
  for (const chain of w.net.chains.values()) {
    if (rng.chance(0.12)) failChain(rng, sim, plan, chain.chainId);
    const joined = [...chain.corps.values()].filter((c) => c.corpid !== null);
    if (joined.length && rng.chance(0.25)) refuseDetails(sim, plan, chain.chainId, rng.pick(joined).corpid!);
  }
  if (rng.chance(0.4)) randomFaults(rng, sim, plan);
  if (rng.chance(0.3)) {
    const endpoint = rng.pick([
      'get_chain_group',
      'get_chain_corpinfo_list',
      'get_chain_corpinfo',
      'get_chain_list',
    ] as const);
    sim.faults.inject({ endpoint, count: 1, fault: { errcode: 45009 } });
    plan.described.push(`ratelimit ${endpoint}`);
  }
  return plan;
}

function failChain(rng: Rng, sim: Simulator, plan: FaultPlan, chainId: string): void {
  plan.failingChains.add(chainId);
  const endpoint = rng.chance(0.5) ? 'get_chain_group' : 'get_chain_corpinfo_list';
  sim.faults.inject({ endpoint, count: Infinity, fault: { errcode: 60003 }, match: { chainId } });
  plan.described.push(`chain-fail ${chainId} via ${endpoint}`);
}

function refuseDetails(sim: Simulator, plan: FaultPlan, chainId: string, corpid: string): void {
  sim.faults.inject({
    endpoint: 'get_chain_corpinfo',
    count: 1,
    fault: { errcode: 60136 },
    match: { chainId, corpid },
  });
  plan.refusedDetails.set(chainId, new Set([corpid]));
  plan.described.push(`detail-fail ${chainId} ${corpid}`);
}

/** Transient failures the client must retry through, and answers it must reject unstored. */
function randomFaults(rng: Rng, sim: Simulator, plan: FaultPlan): void {
  const rate = 0.02 + rng.next() * 0.08;
  sim.faults.setRandom({
    rate,
    kinds: [
      { errcode: -1 },
      { errcode: 45033 },
      { httpStatus: 502 },
      { drop: true },
      { errcode: 50100 },
      { malformed: 'json' },
      { malformed: 'schema' },
      { httpStatus: 429 },
    ],
  });
  plan.described.push(`random ${rate.toFixed(2)}`);
}

/** Counted in get_chain_corpinfo_list calls; 0 means never. */
export interface Interruptions {
  tokens: 'revoke' | 'expire' | null;
  tokensAt: number;
  midCrawlAt: number;
  abortAt: number;
}

export function planInterruptions(rng: Rng, enabled: boolean): Interruptions {
  const tokens = enabled ? rng.pick(['revoke', 'expire', null, null] as const) : null;
  const tokensAt = 1 + rng.int(4);
  const midCrawlAt = enabled && rng.chance(0.35) ? 1 + rng.int(12) : 0;
  const abortAt = enabled && rng.chance(0.06) ? 1 + rng.int(10) : 0;
  return { tokens, tokensAt, midCrawlAt, abortAt };
}

export function describeInterruptions(i: Interruptions): string[] {
  const out: string[] = [];
  if (i.tokens) out.push(`${i.tokens}@${i.tokensAt}`);
  if (i.abortAt) out.push(`abort@${i.abortAt}`);
  return out;
}

/** The simulator's clock, which a token expiry moves forward. */
export interface SimClock {
  offsetMs: number;
}

export interface InterceptedCrawl {
  api: ChainApi & { stats(): ApiStats };
  abort: AbortController;
  /** get_chain_corpinfo calls per `chain/corp_key`. */
  detailCalls: Map<string, number>;
  /** `chain/corp_key` of the get_chain_corpinfo calls answered in a shape that does not fit (random faults). */
  misfitDetails: Set<string>;
  /** `chain/corp_key` of every corp a page of the crawl listed. */
  listed: Set<string>;
  /** What changed mid-crawl. */
  midCrawl: string[];
}

/** The client, with the interruptions played at their call and the detail calls counted. */
export function interceptCrawl(
  client: WecomClient,
  ctx: { world: World; sim: Simulator; clock: SimClock; plan: Interruptions; mutateMidCrawl: boolean },
): InterceptedCrawl {
  const { world, sim, clock, plan } = ctx;
  const crawl: InterceptedCrawl = {
    api: client,
    abort: new AbortController(),
    detailCalls: new Map(),
    misfitDetails: new Set(),
    listed: new Set(),
    midCrawl: [],
  };
  let calls = 0;
  const beforeListing = () => {
    calls++;
    if (calls === plan.midCrawlAt && ctx.mutateMidCrawl) {
      const line = mutateMidCrawl(world);
      if (line) crawl.midCrawl.push(line);
    }
    if (calls === plan.abortAt) crawl.abort.abort(new Error('model check: abort'));
    if (calls === plan.tokensAt && plan.tokens === 'revoke') sim.revokeTokens();
    if (calls === plan.tokensAt && plan.tokens === 'expire') clock.offsetMs += 7_300_000;
  };
  crawl.api = {
    getChainList: () => client.getChainList(),
    getChainGroups: (chainId, signal) => client.getChainGroups(chainId, signal),
    listCorps: async (req, signal) => {
      beforeListing();
      const page = await client.listCorps(req, signal);
      for (const corp of page.corps) crawl.listed.add(`${req.chainId}/${corpKey(corp)}`);
      return page;
    },
    getCorpInfo: (req, signal) => {
      const key = `${req.chainId}/${'corpid' in req ? req.corpid : `pending:${req.pendingCorpid}`}`;
      crawl.detailCalls.set(key, (crawl.detailCalls.get(key) ?? 0) + 1);
      return client.getCorpInfo(req, signal).catch((err: unknown) => {
        if (err instanceof WecomResponseError) crawl.misfitDetails.add(key);
        throw err;
      });
    },
    stats: () => client.stats(),
  };
  return crawl;
}
