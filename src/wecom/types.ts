// What the WeCom chain endpoints return, after validation, in the shapes the crawler works with.

export interface Chain {
  chainId: string;
  chainName: string;
}

export interface Group {
  groupid: number;
  groupName: string;
  /** 1 for a top-level group; may name a group the app cannot see. */
  parentid: number;
  /** The API's `order`, in [0, 2^32). */
  order: number;
}

export interface ListedCorpCommon {
  corpName: string;
  /** '' when none was set. */
  customId: string;
  groupid: number;
  /** Only returned to apps allowed to call the chain APIs. */
  inviteUserid: string | null;
}

/** A corp that has joined the chain: it has a corpid and no pending_corpid. */
export interface JoinedCorp extends ListedCorpCommon {
  isJoined: true;
  corpid: string;
}

/** A corp that was invited but has not joined: it has only a pending_corpid. */
export interface PendingCorp extends ListedCorpCommon {
  isJoined: false;
  pendingCorpid: string;
}

export type ListedCorp = JoinedCorp | PendingCorp;

/** The corp `common` describes, joined when it has a corpid, pending (keyed by pendingCorpid) otherwise. */
export function listedCorp(
  common: ListedCorpCommon,
  corpid: string | null,
  pendingCorpid: string | null,
): ListedCorp {
  if (corpid !== null) return { ...common, isJoined: true, corpid };
  if (pendingCorpid === null) throw new TypeError('a corp has a corpid or a pending_corpid');
  return { ...common, isJoined: false, pendingCorpid };
}

export interface CorpPage {
  corps: ListedCorp[];
  hasMore: boolean;
  nextCursor: string;
}

export type CorpInfoRequest =
  | { chainId: string; corpid: string }
  | { chainId: string; pendingCorpid: string };

export interface CorpDetail {
  corpName: string;
  /** 1 unverified, 2 verified, 3 certified; null when WeCom did not say. */
  qualificationStatus: number | null;
  customId: string;
  groupid: number;
  isJoined: boolean;
}

/** The four chain endpoints and gettoken, by the last segment of their path. */
export const ENDPOINTS = [
  'gettoken',
  'get_chain_list',
  'get_chain_group',
  'get_chain_corpinfo_list',
  'get_chain_corpinfo',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

/** WeCom's rate windows: calls per minute and per hour, per API. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;

export function isEndpoint(name: string): name is Endpoint {
  return (ENDPOINTS as readonly string[]).includes(name);
}

export const ENDPOINT_PATHS: Record<Endpoint, string> = {
  gettoken: '/cgi-bin/gettoken',
  get_chain_list: '/cgi-bin/corpgroup/corp/get_chain_list',
  get_chain_group: '/cgi-bin/corpgroup/corp/get_chain_group',
  get_chain_corpinfo_list: '/cgi-bin/corpgroup/corp/get_chain_corpinfo_list',
  get_chain_corpinfo: '/cgi-bin/corpgroup/corp/get_chain_corpinfo',
};

/**
 * The longest id stored that WeCom sets no length for (a chain_id, a pending_corpid). Every index of a
 * chain's tables holds the chain_id, and some the corp's key too, and a B-tree row holds at most 2,704
 * bytes: a longer id would fail the merge as a database error, which stops the whole run, on every run.
 */
export const MAX_STORED_ID_BYTES = 1_024;

/** What a pending corp's key starts with, which no corpid may (schemas.ts): the two would be one corp. */
export const PENDING_KEY_PREFIX = 'pending:';

export function corpKey(corp: ListedCorp): string {
  return corp.isJoined ? corp.corpid : `${PENDING_KEY_PREFIX}${corp.pendingCorpid}`;
}
