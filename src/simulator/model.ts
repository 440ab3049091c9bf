// The simulated network's data, in plain shapes that tests can build by hand and compare against.

/** WeCom's root group: it holds corps directly but is never listed by get_chain_group. */
export const ROOT_GROUP_ID = 1;

/** Groups nest at most this deep below the root (the product's documented limit). */
export const MAX_DEPTH = 6;

export interface SimGroup {
  groupid: number;
  groupName: string;
  /** ROOT_GROUP_ID for a top-level group. */
  parentid: number;
  /** In [0, 2^32): larger sorts first in WeCom's UI. */
  order: number;
}

export type QualificationStatus = 1 | 2 | 3;

/** Exactly one of corpid / pendingCorpid is set. */
export interface SimCorp {
  corpid: string | null;
  pendingCorpid: string | null;
  corpName: string;
  /** '' when the importer set none. */
  customId: string;
  groupid: number;
  inviteUserid: string;
  /** Returned by get_chain_corpinfo for joined corps only. */
  qualificationStatus: QualificationStatus;
}

export interface SimChain {
  chainId: string;
  chainName: string;
  /** Keyed by groupid; the root group is implicit and absent. */
  groups: Map<number, SimGroup>;
  /** Keyed by corpKey(): the corpid, or 'pending:' + pendingCorpid. */
  corps: Map<string, SimCorp>;
}

export interface NetworkSpec {
  seed: number;
  chains: number;
  /** Total across all chains. */
  groups: number;
  /** Total across all chains. */
  corps: number;
  /** Share of corps that were invited but have not joined, 0..1. */
  pendingRatio: number;
  /** Deepest group level below the root, 1..6 (ignored when there are no groups). */
  maxDepth: number;
}

export const PENDING_PREFIX = 'pending:';

/** The same key the database uses (chain_corps.corp_key). */
export function corpKeyOf(corp: Pick<SimCorp, 'corpid' | 'pendingCorpid'>): string {
  if (corp.corpid !== null) return corp.corpid;
  if (corp.pendingCorpid !== null) return PENDING_PREFIX + corp.pendingCorpid;
  throw new Error('corp has neither corpid nor pendingCorpid');
}

export function isPending(corp: SimCorp): boolean {
  return corp.corpid === null;
}
