// What a completed chain's crawl listed, when that is not simply the network before the run. A corp that
// changed mid-crawl may be stored as it was before or after (its page was read before or after the
// change); and a corp asked about twice (a listing restarted after 50100, or listed in two groups) ends
// with whichever answer came last. Here the stored row decides which happened, and anything it cannot
// explain is a problem; the model then merges the listing the run actually saw.
import type { Queryable } from '../../src/db/database.ts';
import { rowsOf } from './diff.ts';
import type { CorpFields } from './expected-state.ts';
import type { FaultPlan } from './faults.ts';
import { type ListedChain, type ListedCorp, listingOf, type World } from './network.ts';

export interface Reconciled {
  problems: string[];
  /** Whether a refusal may have been asked again: stats.details_failed cannot be predicted then. */
  refusalsUncertain: boolean;
}

/** Replaces, in `listings`, each completed chain's corps by those its crawl saw around the mid-crawl change. */
export async function reconcileMidCrawl(
  db: Queryable,
  upstream: string,
  ctx: {
    world: World;
    listings: Map<string, ListedChain>;
    completed: Set<string>;
    plan: FaultPlan;
    /** `chain/corp_key` of every corp the crawl's pages listed. */
    listed: ReadonlySet<string>;
    /** The invite_userid the model had stored for a corp before this run. */
    storedInvite: (chainId: string, key: string) => string | undefined;
  },
): Promise<Reconciled> {
  const result: Reconciled = { problems: [], refusalsUncertain: false };
  const rows = await rowsOf(
    db,
    `select chain_id, corp_key, corp_name, custom_id, groupid, removed_at is null cur, details_fetched_at d
     from wecom.chain_corps where upstream_corpid = $1`,
    [upstream],
  );
  const stored = new Map(rows.map((r) => [`${r.chain_id}/${r.corp_key}`, r]));
  for (const [chainId, before] of ctx.listings) {
    const chain = ctx.world.net.chains.get(chainId);
    if (!chain || !ctx.completed.has(chainId)) continue;
    const after = listingOf(chain);
    const seen = (key: string, a: ListedCorp | undefined, b: ListedCorp | undefined) =>
      whichWasSeen({
        ...ctx,
        result,
        chainId,
        key,
        before: a,
        after: b,
        row: stored.get(`${chainId}/${key}`),
      });
    const corps = pairs(before.corps, after.corps)
      .map(([key, a, b]) => seen(key, a, b))
      .filter((c) => c !== undefined);
    ctx.listings.set(chainId, { ...before, corps });
  }
  return result;
}

/** Every key of either listing, with its corp before and after. */
function pairs(before: ListedCorp[], after: ListedCorp[]): [string, ListedCorp?, ListedCorp?][] {
  const a = new Map(before.map((c) => [c.key, c]));
  const b = new Map(after.map((c) => [c.key, c]));
  return [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, a.get(k), b.get(k)]);
}

function whichWasSeen(x: {
  world: World;
  plan: FaultPlan;
  listed: ReadonlySet<string>;
  storedInvite: (chainId: string, key: string) => string | undefined;
  result: Reconciled;
  chainId: string;
  key: string;
  before: ListedCorp | undefined;
  after: ListedCorp | undefined;
  // biome-ignore lint/suspicious/noExplicitAny: a row of the query above
  row: any;
}): ListedCorp | undefined {
  const { before, after, row, chainId, key } = x;
  const log = (what: string) => x.world.log.push(`(mid ${chainId}/${key}: ${what})`);
  if (before && after && JSON.stringify(before) === JSON.stringify(after)) return before;
  const storedAs = (c: ListedCorp | undefined) =>
    c && row && c.name === row.corp_name && c.groupid === row.groupid && c.custom === row.custom_id;
  if (!row?.cur) {
    log('absent');
    return;
  }
  if (storedAs(after)) {
    log('post');
    // On no page the crawl read: found by the recheck, whose get_chain_corpinfo carries no invite_userid,
    // so the stored one stands until a listing shows the corp again.
    if (!x.listed.has(`${chainId}/${key}`)) {
      const invite = x.storedInvite(chainId, key);
      return invite === undefined ? after : { ...after!, invite };
    }
    return after;
  }
  if (!storedAs(before)) {
    x.result.problems.push(
      `mid-crawl corp ${chainId}/${key} stored as neither before nor after: ${JSON.stringify(row)}`,
    );
    return;
  }
  // Gone before its group was listed, and still current: its recheck did not fit, so the crawl kept it as
  // stored (withKeptMisfits), unlisted. Stored as it was, it is otherwise indistinguishable from a corp
  // listed before it left.
  if (!after && !x.listed.has(`${chainId}/${key}`)) {
    log('kept');
    x.world.reached.kept_after_misfit += 1;
    return;
  }
  log('pre');
  // Listed before it left, its details asked after: refused for it alone (documented).
  if (!after && row.d === null && before!.corpid !== null) {
    if (!x.plan.refusedDetails.has(chainId)) x.plan.refusedDetails.set(chainId, new Set());
    x.plan.refusedDetails.get(chainId)!.add(key);
    x.result.refusalsUncertain = true;
  }
  return before;
}

/**
 * The corps of a completed chain whose details the model must treat as refused: refused by the plan, or
 * answered in a shape that does not fit (a random fault the client does not retry through). A refused corp
 * asked again may have got its details the second time: the stored details_fetched_at tells.
 */
export async function refusalsOf(
  db: Queryable,
  upstream: string,
  ctx: { chainId: string; plan: FaultPlan; detailCalls: Map<string, number>; misfitDetails: Set<string> },
): Promise<{ refused: Set<string>; uncertain: boolean }> {
  const prefix = `${ctx.chainId}/`;
  const misfit = [...ctx.misfitDetails]
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length));
  const planned = new Set([...(ctx.plan.refusedDetails.get(ctx.chainId) ?? []), ...misfit]);
  const refused = new Set(planned);
  let uncertain = false;
  const rows = await rowsOf(
    db,
    `select corp_key, details_fetched_at is null n from wecom.chain_corps
     where upstream_corpid = $1 and chain_id = $2`,
    [upstream, ctx.chainId],
  );
  for (const r of rows) {
    if ((ctx.detailCalls.get(`${ctx.chainId}/${r.corp_key}`) ?? 0) <= 1 || !planned.has(r.corp_key)) continue;
    uncertain = true;
    if (r.n) refused.add(r.corp_key);
    else refused.delete(r.corp_key);
  }
  return { refused, uncertain };
}

/**
 * `listing` with the corps it left out whose recheck WeCom answered in a shape that does not fit, in a group
 * still listed: the crawl keeps those as stored, so the model merges them as the model stores them, their
 * details not asked.
 */
export function withKeptMisfits(
  listing: ListedChain,
  stored: ReadonlyMap<string, CorpFields & { removed: unknown }> | undefined,
  misfitDetails: ReadonlySet<string>,
): { listing: ListedChain; kept: Set<string> } {
  const listed = new Set(listing.corps.map((c) => c.key));
  const groups = new Set([1, ...listing.groups.map((g) => g.groupid)]);
  const corps: ListedCorp[] = [];
  for (const key of misfitDetails) {
    const [chainId, corpKey] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    const row = stored?.get(corpKey);
    if (chainId !== listing.chainId || listed.has(corpKey) || !row || row.removed !== null) continue;
    // Not kept in a group the listing no longer has: removed, as a corp WeCom no longer gives.
    if (!groups.has(row.groupid)) continue;
    const { corpid, pending, name, custom, groupid, invite, qual } = row;
    corps.push({ key: corpKey, corpid, pending, name, custom, groupid, invite: invite ?? '', qual });
  }
  const kept = new Set(corps.map((c) => c.key));
  return { listing: kept.size === 0 ? listing : { ...listing, corps: [...listing.corps, ...corps] }, kept };
}
