// The simulated networks the benchmark crawls, and what can be known about a crawl of them in advance.

import type { StagedCorp } from '../src/db/chain-stage.ts';
import {
  type NetworkSpec,
  type SimChain,
  type SimCorp,
  SimNetwork,
  type Simulator,
  startSimulator,
} from '../src/simulator/index.ts';
import { type Chain, type Group, type ListedCorp, listedCorp } from '../src/wecom/types.ts';

export const CORP_ID = 'wwbenchupstream';
export const SECRET = 'bench-secret';

/** The environment a child process needs to sync from the bench simulator into the bench database. */
export function syncEnv(databaseUrl: string, simUrl: string, pageSize: number): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    WECOM_API_BASE: simUrl,
    WECOM_CORP_ID: CORP_ID,
    WECOM_CORP_SECRET: SECRET,
    SYNC_PAGE_SIZE: String(pageSize),
  };
}

/** Three chains of decreasing size, one group per 100 corps, 15% pending: the simulator's demo shape. */
export function specFor(corps: number, chains = 3): NetworkSpec {
  return {
    seed: 1,
    chains,
    groups: Math.max(10, Math.round(corps / 100)),
    corps,
    pendingRatio: 0.15,
    maxDepth: 5,
  };
}

export function generate(corps: number, chains = 3): SimNetwork {
  return SimNetwork.generate(specFor(corps, chains));
}

export function joinedCount(network: SimNetwork): number {
  let n = 0;
  for (const chain of network.chains.values()) for (const c of chain.corps.values()) if (c.corpid) n++;
  return n;
}

/**
 * The longest chain of calls that must follow one another, in latencies: gettoken, get_chain_list,
 * get_chain_group, then the pages of the chain's biggest group one after another (the crawler fetches
 * a page's details before asking for the next page). No concurrency shortens it.
 */
export function dependentCalls(network: SimNetwork, pageSize: number, withDetails: boolean): number {
  let longest = 0;
  for (const chain of network.chains.values()) {
    const perGroup = new Map<number, { joined: number; pending: number }>();
    for (const c of chain.corps.values()) {
      const g = perGroup.get(c.groupid) ?? { joined: 0, pending: 0 };
      if (c.corpid) g.joined++;
      else g.pending++;
      perGroup.set(c.groupid, g);
    }
    for (const { joined, pending } of perGroup.values()) {
      const pages = Math.max(1, Math.ceil((joined + pending) / pageSize));
      // Joined corps are listed first, so the first ceil(joined / pageSize) pages need details.
      const detailPages = withDetails ? Math.ceil(joined / pageSize) : 0;
      longest = Math.max(longest, pages + detailPages);
    }
  }
  return 3 + longest;
}

// --- the same rows, handed straight to the write path ---------------------------------------------

export interface ChainRows {
  chain: Chain;
  groups: Group[];
  /** In pages, as the crawler stages them. */
  pages: StagedCorp[][];
}

function listed(corp: SimCorp): ListedCorp {
  const { corpName, customId, groupid, inviteUserid } = corp;
  return listedCorp({ corpName, customId, groupid, inviteUserid }, corp.corpid, corp.pendingCorpid);
}

function staged(corp: SimCorp, withDetails: boolean): StagedCorp {
  const detail =
    withDetails && corp.corpid !== null
      ? {
          corpName: corp.corpName,
          qualificationStatus: corp.qualificationStatus,
          customId: corp.customId,
          groupid: corp.groupid,
          isJoined: true,
        }
      : null;
  return { corp: listed(corp), detail };
}

/**
 * What a crawl with SYNC_DETAILS=changed stages: every corp, and on a first crawl the joined ones with
 * their details (a re-run over unchanged, recently fetched corps fetches none).
 */
export function chainRows(network: SimNetwork, pageSize: number, withDetails = true): ChainRows[] {
  return [...network.chains.values()].map((chain: SimChain) => {
    const corps = [...chain.corps.values()].map((c) => staged(c, withDetails));
    const pages: StagedCorp[][] = [];
    for (let i = 0; i < corps.length; i += pageSize) pages.push(corps.slice(i, i + pageSize));
    return {
      chain: { chainId: chain.chainId, chainName: chain.chainName },
      groups: [...chain.groups.values()].map((g) => ({
        groupid: g.groupid,
        groupName: g.groupName,
        parentid: g.parentid,
        order: g.order,
      })),
      pages,
    };
  });
}

/** The simulator every bench scenario talks to: only latency and its rate limit vary, never concurrency. */
export function startBenchSimulator(
  network: SimNetwork,
  latencyMs: number,
  rateLimitPerMin: number,
): Promise<Simulator> {
  return startSimulator({
    network,
    corpId: CORP_ID,
    corpSecret: SECRET,
    latencyMs,
    rateLimitPerMin,
    rateLimitPerHour: rateLimitPerMin * 60, // the minute's limit alone binds, as the client's caps do
    maxConcurrent: 1_000_000,
  });
}
