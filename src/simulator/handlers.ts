// The five endpoints, as pure functions of the network and the request: no I/O, no timing. The
// server has already checked method, token, limits and faults. Field names, types and order follow
// WeCom's official page for the upstream/downstream (上下游) endpoints.
import { LIST_START } from './corp-index.ts';
import type { CursorCodec } from './cursor.ts';
import {
  isPending,
  PENDING_PREFIX,
  ROOT_GROUP_ID,
  type SimChain,
  type SimCorp,
  type SimGroup,
} from './model.ts';
import type { SimNetwork } from './network.ts';
import type { TokenStore } from './tokens.ts';
import { ERRCODE, type SimEndpoint, type WireBody, WireError } from './wire.ts';

export interface HandlerContext {
  network: SimNetwork;
  tokens: TokenStore;
  cursors: CursorCodec;
  corpId: string;
  corpSecret: string;
  maxPageSize: number;
  inviteUserid: boolean;
}

export interface SimRequest {
  query: URLSearchParams;
  /** The parsed JSON body of a POST ({} for GET or an empty body). */
  body: Record<string, unknown>;
}

export type Handler = (ctx: HandlerContext, req: SimRequest) => WireBody;

export const HANDLERS: Record<SimEndpoint, Handler> = {
  gettoken(ctx, { query }) {
    const corpid = query.get('corpid') ?? '';
    const secret = query.get('corpsecret') ?? '';
    if (corpid === '') throw new WireError(ERRCODE.missingCorpid);
    if (secret === '') throw new WireError(ERRCODE.missingSecret);
    if (corpid !== ctx.corpId) throw new WireError(ERRCODE.invalidCorpid);
    if (secret !== ctx.corpSecret) throw new WireError(ERRCODE.invalidSecret);
    const { token, expiresIn } = ctx.tokens.issue();
    return { errcode: 0, errmsg: 'ok', access_token: token, expires_in: expiresIn };
  },

  get_chain_list(ctx) {
    const chains = [];
    for (const c of ctx.network.chains.values())
      chains.push({ chain_id: c.chainId, chain_name: c.chainName });
    return { errcode: 0, errmsg: 'ok', chains };
  },

  get_chain_group(ctx, { body }) {
    const chain = requireChain(ctx, body);
    const groupid = optionalGroupid(body);
    let groups: Iterable<SimGroup> = chain.groups.values();
    if (groupid !== undefined) {
      const one = chain.groups.get(groupid);
      // The root is never listed, even when asked for by id.
      if (!one && groupid !== ROOT_GROUP_ID) throw new WireError(ERRCODE.unknownGroup);
      groups = one ? [one] : [];
    }
    return {
      errcode: 0,
      errmsg: 'ok',
      groups: Array.from(groups, (g) => ({
        groupid: g.groupid,
        group_name: g.groupName,
        parentid: g.parentid,
        order: g.order,
      })),
    };
  },

  get_chain_corpinfo_list(ctx, { body }) {
    const chain = requireChain(ctx, body);
    const groupid = optionalGroupid(body) ?? ROOT_GROUP_ID;
    if (!ctx.network.hasGroup(chain, groupid)) throw new WireError(ERRCODE.unknownGroup);
    const needPending = optionalFlag(body, 'need_pending') ?? false;
    const limit = optionalInteger(body, 'limit', 0) ?? 0;
    const cursor = optionalString(body, 'cursor') ?? '';
    if (limit === 0) {
      // No paging: every row at once, and has_more false.
      const keys = ctx.network.groupCorpKeys(chain.chainId, groupid, needPending);
      return listReply(ctx, chain, groupid, keys, false, '');
    }
    let from = LIST_START;
    if (cursor !== '') {
      const state = ctx.cursors.decode(cursor);
      if (
        state === null ||
        state.chainId !== chain.chainId ||
        state.groupid !== groupid ||
        state.needPending !== needPending
      ) {
        throw new WireError(ERRCODE.invalidCursor);
      }
      from = state.position;
    }
    const size = Math.min(limit, ctx.maxPageSize);
    const page = ctx.network.groupCorpPage(chain.chainId, groupid, needPending, from, size);
    // A cursor comes back even on the last page (as in the official example): clients must stop on
    // has_more, and a cursor used after the end just yields an empty last page.
    const next = ctx.cursors.encode({ chainId: chain.chainId, groupid, needPending, position: page.end });
    return listReply(ctx, chain, groupid, page.keys, page.hasMore, next);
  },

  get_chain_corpinfo(ctx, { body }) {
    const chain = requireChain(ctx, body);
    const corpid = optionalString(body, 'corpid') ?? '';
    const pendingCorpid = optionalString(body, 'pending_corpid') ?? '';
    if (corpid === '' && pendingCorpid === '') {
      throw new WireError(ERRCODE.missingParameter, 'corpid or pending_corpid required');
    }
    // "同时填corpid生效": corpid wins when both are given.
    const corp = chain.corps.get(corpid !== '' ? corpid : PENDING_PREFIX + pendingCorpid);
    if (!corp || (corpid !== '' && corp.corpid !== corpid)) throw new WireError(ERRCODE.unknownCorp);
    const joined = !isPending(corp);
    return {
      errcode: 0,
      errmsg: 'ok',
      corp_name: corp.corpName,
      ...(joined ? { qualification_status: corp.qualificationStatus } : {}),
      custom_id: corp.customId,
      groupid: corp.groupid,
      is_joined: joined,
    };
  },
};

function listReply(
  ctx: HandlerContext,
  chain: SimChain,
  groupid: number,
  keys: string[],
  hasMore: boolean,
  nextCursor: string,
): WireBody {
  const rows: WireBody[] = [];
  for (const key of keys) {
    const corp = chain.corps.get(key);
    // Skips entries the maps no longer agree with (maps edited without reindex()).
    if (corp && corp.groupid === groupid) rows.push(corpRow(ctx, corp));
  }
  return { errcode: 0, errmsg: 'ok', has_more: hasMore, next_cursor: nextCursor, group_corps: rows };
}

/** Absent fields are left out, not null: corpid only for joined corps, pending_corpid only for pending. */
function corpRow(ctx: HandlerContext, corp: SimCorp): WireBody {
  const row: WireBody = { groupid: corp.groupid };
  if (corp.corpid !== null) row.corpid = corp.corpid;
  row.corp_name = corp.corpName;
  row.custom_id = corp.customId;
  if (ctx.inviteUserid) row.invite_userid = corp.inviteUserid;
  if (corp.pendingCorpid !== null) row.pending_corpid = corp.pendingCorpid;
  row.is_joined = corp.corpid !== null ? 1 : 0;
  return row;
}

// --- request fields: missing → 40063, wrong type → 40058 ----------------------------------------

function requireChain(ctx: HandlerContext, body: Record<string, unknown>): SimChain {
  const chainId = optionalString(body, 'chain_id');
  if (chainId === undefined || chainId === '')
    throw new WireError(ERRCODE.missingParameter, 'chain_id missing');
  const chain = ctx.network.chains.get(chainId);
  if (!chain) throw new WireError(ERRCODE.unknownChain, 'invalid chain_id');
  return chain;
}

function optionalGroupid(body: Record<string, unknown>): number | undefined {
  return optionalInteger(body, 'groupid', ROOT_GROUP_ID);
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new WireError(ERRCODE.invalidParameter, `invalid ${name}`);
  return v;
}

function optionalInteger(body: Record<string, unknown>, name: string, min: number): number | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new WireError(ERRCODE.invalidParameter, `invalid ${name}`);
  }
  return v;
}

/** WeCom reads flags leniently: true/false or 1/0. */
function optionalFlag(body: Record<string, unknown>, name: string): boolean | undefined {
  const v = body[name];
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 1) return true;
  if (v === false || v === 0) return false;
  throw new WireError(ERRCODE.invalidParameter, `invalid ${name}`);
}
