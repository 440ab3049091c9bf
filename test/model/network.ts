// The network a seed evolves, and what a complete crawl of one chain lists, in the plain shape the
// expected model merges. Names, custom ids and invitees come from short lists on purpose: collisions are
// what exercise the renames, the duplicate custom ids and the entity links.
import { corpKeyOf, type SimChain, type SimCorp, SimNetwork } from '../../src/simulator/index.ts';
import { Rng } from '../../src/simulator/random.ts';

export const CUSTOM_IDS = ['', 'C1', 'C2', 'C3', 'C4', 'C5'];
const NAMES = ['甲', '乙', '丙', '丁', '戊'];

/** How large a seed's network and each round's batch of mutations may get. */
export interface Size {
  chains: number;
  groups: number;
  corps: number;
  mutations: number;
}
export const SMALL: Size = { chains: 3, groups: 5, corps: 16, mutations: 4 };
export const BIG: Size = { chains: 4, groups: 10, corps: 60, mutations: 10 };

export interface RemovedCorp {
  chainId: string;
  corp: SimCorp;
}

/** One seed's network and what its mutations remember from round to round. */
export interface World {
  rng: Rng;
  net: SimNetwork;
  size: Size;
  /** The last id handed out: ids never repeat unless a mutation brings one back on purpose. */
  ids: number;
  removedChains: Map<string, SimChain>;
  /** Corps gone from the network, kept so a later round can bring them back. */
  removedCorps: RemovedCorp[];
  /**
   * `chain/key` of pending corps that joined. They are never listed again: a pending record listed after
   * its corp joined gives the entity two open versions, a limitation docs/schema.md documents.
   */
  joinedPending: Set<string>;
  /** Joins split across runs: the pending record went this round, the joined one appears next round. */
  delayedJoins: RemovedCorp[];
  /** This round's mutations, for the failure message. */
  log: string[];
  /** Paths the checker saw that the database does not show (a corp kept after a recheck that did not fit). */
  reached: { kept_after_misfit: number };
}

export function newWorld(seed: number, size: Size): World {
  return {
    rng: new Rng(seed),
    net: new SimNetwork(),
    size,
    ids: 0,
    removedChains: new Map(),
    removedCorps: [],
    joinedPending: new Set(),
    delayedJoins: [],
    log: [],
    reached: { kept_after_misfit: 0 },
  };
}

export function nextId(w: World): number {
  return ++w.ids;
}

export function randomName(w: World, id: number): string {
  return `${w.rng.pick(NAMES)}${id}`;
}

/** The root group (1) and every group of the chain: where a corp may be. */
export function groupChoices(chain: SimChain): number[] {
  return [1, ...chain.groups.keys()];
}

export function newCorp(w: World, chain: SimChain, pending: boolean): SimCorp {
  const id = nextId(w);
  return {
    corpid: pending ? null : `wj${id}`,
    pendingCorpid: pending ? `p${id}` : null,
    corpName: randomName(w, id),
    customId: w.rng.pick(CUSTOM_IDS),
    groupid: w.rng.pick(groupChoices(chain)),
    inviteUserid: `u${w.rng.int(3)}`,
    qualificationStatus: (1 + w.rng.int(3)) as 1 | 2 | 3,
  };
}

/** 1..size.chains chains ch0.., each with a random tree of groups and 2.. corps, 40% of them pending. */
export function buildNetwork(w: World): void {
  const { rng, net, size } = w;
  const chains = 1 + rng.int(size.chains);
  for (let i = 0; i < chains; i++) {
    const chain = net.addChain(`ch${i}`, `链${i}`);
    const groups = rng.int(size.groups);
    for (let g = 0; g < groups; g++) {
      const groupid = 10 + nextId(w);
      const parentid = rng.pick(groupChoices(chain));
      try {
        net.addGroup(chain.chainId, { groupid, groupName: `组${w.ids}`, parentid, order: rng.int(3) });
      } catch {
        // Too deep a tree, which the simulator refuses as WeCom would: that group is left out (a big
        // network's random tree reached it, seed 737, and the whole check stopped with a usage error).
      }
    }
    const corps = 2 + rng.int(size.corps);
    for (let c = 0; c < corps; c++) net.addCorp(chain.chainId, newCorp(w, chain, rng.chance(0.4)));
  }
}

export interface ListedCorp {
  key: string;
  corpid: string | null;
  pending: string | null;
  name: string;
  custom: string;
  groupid: number;
  invite: string;
  /** What get_chain_corpinfo answers; a mutation may make it absent or out of range. */
  qual: number | null;
}
export interface ListedGroup {
  groupid: number;
  name: string;
  parentid: number;
  order: number;
}
export interface ListedChain {
  chainId: string;
  name: string;
  groups: ListedGroup[];
  corps: ListedCorp[];
}

/** A copy, so later mutations of the network do not change what a finished crawl listed. */
export function listingOf(chain: SimChain): ListedChain {
  return {
    chainId: chain.chainId,
    name: chain.chainName,
    groups: [...chain.groups.values()].map((g) => ({
      groupid: g.groupid,
      name: g.groupName,
      parentid: g.parentid,
      order: g.order,
    })),
    corps: [...chain.corps.values()].map((c) => ({
      key: corpKeyOf(c),
      corpid: c.corpid,
      pending: c.pendingCorpid,
      name: c.corpName,
      custom: c.customId,
      groupid: c.groupid,
      invite: c.inviteUserid,
      qual: (c.qualificationStatus as number | undefined) ?? null,
    })),
  };
}

export function listingsOf(net: SimNetwork): Map<string, ListedChain> {
  return new Map([...net.chains.values()].map((c) => [c.chainId, listingOf(c)]));
}
