// Crawls one chain: its group tree, then every group's corps page by page, fetching details for the corps
// that need them while other groups are still being listed, staging as it goes; then asks about the stored
// corps no listing returned, and merges.
import { createHash } from 'node:crypto';
import { ChainStage, type StagedCorp } from '../db/chain-stage.ts';
import type { Database } from '../db/database.ts';
import type { RowCounts, TableName } from '../db/row-counts.ts';
import { ERRCODE } from '../wecom/errcodes.ts';
import {
  type Chain,
  type CorpDetail,
  corpKey,
  type Group,
  type ListedCorp,
  MAX_STORED_ID_BYTES,
} from '../wecom/types.ts';
import type { ChainApi } from './api.ts';
import { type DetailsPolicy, needsDetails } from './details.ts';
import { CrawlError, hasErrcode, isCorpScoped, isDetailsFailure, isMisfitDetails } from './errors.ts';
import { fnv1a } from './fnv.ts';
import { GroupSlots } from './group-slots.ts';
import { HashSet30 } from './hash-set.ts';
import { PriorityLimit } from './priority-limit.ts';
import type { RunStats } from './stats.ts';

export interface CrawlContext {
  api: ChainApi;
  db: Database;
  upstreamCorpid: string;
  runId: number;
  pageSize: number;
  details: DetailsPolicy;
  /** Shared by all chains: how many groups are listed at once across the run, and whose go first. */
  groupSlots: GroupSlots;
  /** Shared by all chains: how many listed pages fetch their corps' details at once; a page with a next one first. */
  detailLimit: PriorityLimit;
  stats: RunStats;
  signal: AbortSignal;
  now: () => number;
}

/**
 * How much work the crawl keeps queued in front of the API client's `apiConcurrency` requests.
 *
 * Many groups are listed at once, so the list endpoint stays busy and a re-sync (few details) is not held
 * to one page at a time. But each listed page wants up to pageSize details, and a page waits for them
 * before its group lists the next: if every listed page queued its details at once, thousands of pending
 * requests would wait for seconds, outlive V8's young generation and fill the old one with garbage (peak
 * RSS 285 MB at 30k corps). Letting only enough pages fetch details to fill the client four times over
 * (and one more, so a page's last few requests never leave slots idle) holds the queue to a few hundred
 * requests; the other listed pages wait as plain data.
 */
export function crawlLimits(
  apiConcurrency: number,
  pageSize: number,
): Pick<CrawlContext, 'groupSlots' | 'detailLimit'> {
  return {
    groupSlots: new GroupSlots(apiConcurrency * 2),
    detailLimit: new PriorityLimit(Math.ceil((4 * apiConcurrency) / pageSize) + 1),
  };
}

const ROOT_GROUP_ID = 1;
// More corps missing than this is a mass removal, which the listing is trusted with, unchecked.
const RECHECK_MAX = 1_000;

/** Crawls the chain completely and merges it; throws, having changed nothing, if any part fails. */
/**
 * The groups to store, each once as its last listing says, and the ids to list the corps of. The root group
 * (id 1) is usually not listed; its corps are asked for by leaving groupid out. Listed or not, it is not stored:
 * the tables and views know it as the parent (1) of the top-level groups, and a row of its own would put every
 * group one level deeper.
 */
export function groupsToCrawl(tree: readonly Group[]): {
  listed: Map<number, Group>;
  groupIds: (number | null)[];
} {
  const listed = new Map(tree.map((g) => [g.groupid, g]));
  const root = listed.delete(ROOT_GROUP_ID) ? ROOT_GROUP_ID : null;
  // Not push(...ids): past ~120,000 arguments that overflows the stack.
  return { listed, groupIds: [root, ...listed.keys()] };
}

export async function syncChain(ctx: CrawlContext, chain: Chain): Promise<Record<TableName, RowCounts>> {
  if (Buffer.byteLength(chain.chainId, 'utf8') > MAX_STORED_ID_BYTES) {
    throw new CrawlError(
      chain.chainId,
      `chain_id longer than ${MAX_STORED_ID_BYTES} bytes, which cannot be stored`,
    );
  }
  // A group listed twice is crawled and stored once, as its last listing says: stored twice, it would fail
  // the chain's merge (a row cannot be upserted twice in one statement) on every run.
  const tree = await ctx.api.getChainGroups(chain.chainId, ctx.signal);
  // Stopped meanwhile (another chain's error that ends the run): started, it would count, and take a session.
  ctx.signal.throwIfAborted();
  const { listed, groupIds } = groupsToCrawl(tree);
  const groups = [...listed.values()];
  ctx.stats.chains.started += 1;
  ctx.stats.groups.listed += groupIds.length;

  const stage = await ChainStage.open(ctx.db, ctx.upstreamCorpid, chain.chainId);
  try {
    await ctx.groupSlots.each(groupIds, ctx.signal, (groupid, signal) =>
      crawlGroup(ctx, { stage, chainId: chain.chainId, groupid, signal }),
    );
    ctx.signal.throwIfAborted();
    if (ctx.details.mode !== 'none') await recheckMissing(ctx, stage, chain.chainId, listed);
    const counts = await stage.commit(chain, groups, ctx.runId);
    // Counted once stored: a refusal in a chain that then failed, or one a listing started again made good,
    // stored nothing without details.
    ctx.stats.details_failed += stage.refusedDetails;
    return counts;
  } finally {
    await stage.close();
  }
}

/** One group's listing within a chain's crawl. */
interface GroupListing {
  stage: ChainStage;
  chainId: string;
  /** null for the root group, asked for without a groupid. */
  groupid: number | null;
  signal: AbortSignal;
}

async function crawlGroup(ctx: CrawlContext, group: GroupListing): Promise<void> {
  // WeCom says a 50100 cursor means "start the listing again"; once, so a broken server cannot loop us.
  for (let restarted = false; ; restarted = true) {
    const listing = group.stage.newListing();
    try {
      return await listGroup(ctx, group, listing);
    } catch (err) {
      if (restarted || !hasErrcode(err, ERRCODE.invalidCursor)) throw err;
      // What the abandoned listing staged may be stale by now: a corp gone since would stay staged and
      // never be marked removed.
      await group.stage.discard(listing);
    }
  }
}

async function listGroup(ctx: CrawlContext, group: GroupListing, listing: number): Promise<void> {
  const { stage, chainId, groupid, signal } = group;
  const seenCursors = new Set<string>();
  const progress = new ListingProgress();
  let cursor = '';
  for (;;) {
    signal.throwIfAborted();
    const page = await ctx.api.listCorps({ chainId, groupid, cursor, limit: ctx.pageSize }, signal);
    const seq = stage.nextSeq(page.corps.length);
    ctx.stats.pages += 1;
    ctx.stats.corps_listed += page.corps.length;
    // Waiting for this page's details before asking for the next page keeps memory flat however many
    // corps there are; other groups keep the list endpoint busy meanwhile.
    await stage.add(await withDetails(ctx, group, page.corps, page.hasMore), listing, seq);
    if (!page.hasMore) {
      ctx.stats.groups.done += 1;
      return;
    }
    const where = `group ${groupid ?? ROOT_GROUP_ID}`;
    if (!page.nextCursor) throw new CrawlError(chainId, `${where}: has_more without a next_cursor`);
    const seen = cursorDigest(page.nextCursor);
    if (seenCursors.has(seen)) throw new CrawlError(chainId, `${where}: next_cursor repeated`);
    if (!progress.advances(page.corps)) {
      throw new CrawlError(
        chainId,
        `${where}: ${STALLED_PAGES} pages in a row with has_more listed no corp it had not listed before`,
      );
    }
    seenCursors.add(seen);
    cursor = page.nextCursor;
  }
}

// A listing remembers its cursors by digest: WeCom's are short, but a server may hand out ones as large as a
// page (up to 64 MB), and a listing that stalls is given a hundred of them before it fails.
const cursorDigest = (cursor: string) => createHash('sha256').update(cursor).digest('base64');

// WeCom may return fewer rows than asked, even none, so a few pages that bring no corp the listing had not
// seen yet are tolerated; STALLED_PAGES in a row is a listing that would never end (a new next_cursor every
// time or not), and fails its chain.
const STALLED_PAGES = 100;

/**
 * Whether a listing still gets anywhere: a 30-bit hash of each key it has listed, in a table of 4-byte slots
 * outside V8's heap (8 to 16 bytes a corp, against about 20 on the heap in a Set and 70 for the key's string:
 * 8 MB for a group of a million corps). A new corp whose hash collides with one listed before (odds of one in
 * a thousand at a million) is missed only if all of its page's corps collide too, 100 pages in a row.
 */
class ListingProgress {
  readonly #seen = new HashSet30();
  #stalled = 0;

  advances(corps: readonly ListedCorp[]): boolean {
    const before = this.#seen.size;
    for (const c of corps) this.#seen.add(fnv1a(corpKey(c)) & 0x3fffffff);
    if (this.#seen.size > before) this.#stalled = 0;
    else this.#stalled += 1;
    return this.#stalled < STALLED_PAGES;
  }
}

/** `gatesNextPage`: the group's next listing waits for these details, so they go before a last page's. */
async function withDetails(
  ctx: CrawlContext,
  group: GroupListing,
  corps: readonly ListedCorp[],
  gatesNextPage: boolean,
): Promise<StagedCorp[]> {
  const unfetched = corps.map((corp) => ({ corp, detail: null }));
  if (ctx.details.mode === 'none') return unfetched;
  const stored =
    ctx.details.mode === 'changed'
      ? await group.stage.lookup(corps.flatMap((c) => (c.isJoined ? [c.corpid] : [])))
      : new Map();
  const now = ctx.now();
  const wanted = corps.map((c) => c.isJoined && needsDetails(c, stored.get(c.corpid), ctx.details, now));
  if (!wanted.includes(true)) return unfetched;
  return ctx.detailLimit.run(
    () =>
      Promise.all(
        corps.map(async (corp, i): Promise<StagedCorp> => {
          if (!corp.isJoined || !wanted[i]) return unfetched[i]!;
          group.signal.throwIfAborted();
          return { corp, detail: await detailOf(ctx, group, corp.corpid) };
        }),
      ),
    gatesNextPage,
  );
}

/**
 * One corp's details, or 'failed' when WeCom refused them for this corp alone (an errcode it does not
 * document, as for a corp that left the chain meanwhile, or an answer that does not fit the schema). A refusal never fails the chain: its listing is
 * sound, and failing it would hold back every change the listing shows (a chain whose corps WeCom keeps
 * refusing would never sync again). The corp is stored as listed, its details due again next run, and the
 * run counts it (stats.details_failed, a warning, a metric).
 */
async function detailOf(
  ctx: CrawlContext,
  { chainId, signal }: GroupListing,
  corpid: string,
): Promise<CorpDetail | 'failed'> {
  try {
    const detail = await ctx.api.getCorpInfo({ chainId, corpid }, signal);
    ctx.stats.details_fetched += 1;
    return detail;
  } catch (err) {
    if (!isDetailsFailure(err)) throw err;
    return 'failed';
  }
}

/**
 * A corp moved from a group not yet listed to one already listed is missed by both listings, and the merge
 * would mark it removed (and the next run restore it). So WeCom is asked about every current corp that
 * nothing staged; one it still answers for is staged as it says now, in the group it names.
 */
async function recheckMissing(
  ctx: CrawlContext,
  stage: ChainStage,
  chainId: string,
  groups: ReadonlyMap<number, Group>,
): Promise<void> {
  const missing = await stage.missing(RECHECK_MAX + 1);
  if (missing.length === 0 || missing.length > RECHECK_MAX) return;
  // One call failing fails the chain: the others stop, as a failed chain's calls do.
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  const asked = missing.map((m) => stillThere(ctx, chainId, m, signal));
  for (const call of asked) call.catch(() => stop.abort());
  const answers = await Promise.all(asked);
  const found = answers.filter((a) => typeof a === 'object');
  // Neither found nor gone: kept as stored, and asked about again next run, still missing; unless its group
  // is gone, which it cannot be stored in. A joined one's details are due again, as any whose answer did
  // not fit: else they would pass for fresh until they grow old.
  const kept = missing
    .filter((c, i) => answers[i] === 'unknown' && (c.groupid === ROOT_GROUP_ID || groups.has(c.groupid)))
    .map((corp) => ({ corp, detail: corp.isJoined ? ('failed' as const) : null }));
  ctx.stats.missing_rechecked += missing.length;
  ctx.stats.missing_found += found.length;
  await stage.add([...found, ...kept]);
}

/**
 * The missing corp as WeCom has it now; 'gone' when WeCom no longer gives it (then it is removed);
 * 'unknown' when its answer does not fit, which says neither.
 */
async function stillThere(
  ctx: CrawlContext,
  chainId: string,
  stored: ListedCorp,
  signal: AbortSignal,
): Promise<StagedCorp | 'gone' | 'unknown'> {
  let detail: CorpDetail;
  try {
    const req = stored.isJoined
      ? { chainId, corpid: stored.corpid }
      : { chainId, pendingCorpid: stored.pendingCorpid };
    detail = await ctx.api.getCorpInfo(req, signal);
  } catch (err) {
    // An undocumented code (WeCom's "no such corp"), or 60011 (out of the app's sight): gone for us.
    if (isCorpScoped(err) || hasErrcode(err, ERRCODE.noPrivilege)) return 'gone';
    if (isMisfitDetails(err)) return 'unknown';
    throw err;
  }
  // Asked as pending, answered as joined (or the reverse): that record is gone, whatever became of the corp.
  if (detail.isJoined !== stored.isJoined) return 'gone';
  const corp = { ...stored, corpName: detail.corpName, customId: detail.customId, groupid: detail.groupid };
  return { corp, detail: stored.isJoined ? detail : null };
}
