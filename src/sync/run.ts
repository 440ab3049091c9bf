// One sync run: record it, list the chains, crawl them (several at once), record how it ended.
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { SyncConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { addCounts, TABLES } from '../db/row-counts.ts';
import { type FinishedStatus, finishRun, removeUnlistedChains, startRun } from '../db/runs.ts';
import { refreshStatistics } from '../db/statistics.ts';
import type { ApiStats } from '../wecom/client.ts';
import type { Chain } from '../wecom/types.ts';
import type { ChainApi } from './api.ts';
import { type CrawlContext, crawlLimits, syncChain } from './crawl-chain.ts';
import { isChainScoped } from './errors.ts';
import { emptyStats, type RunStats } from './stats.ts';

export interface RunOutcome {
  runId: number;
  status: FinishedStatus;
  stats: RunStats;
  /** What stopped the whole run (credentials refused, database lost, aborted), if anything did. */
  fatal: unknown;
}

export interface RunDeps {
  db: Database;
  api: ChainApi & { stats(): ApiStats };
  upstreamCorpid: string;
  sync: SyncConfig;
  /** Requests the API client runs at once (WECOM_CONCURRENCY): sets how much work the crawl keeps queued. */
  apiConcurrency: number;
  log: Logger;
  signal?: AbortSignal;
  /**
   * Aborted when the run cannot go on safely, its lock's connection gone, say: it stops as on `signal`,
   * but ends failed with the reason, as any other failure would.
   */
  lost?: AbortSignal;
  now?: () => number;
  /** Called once the run is recorded, before any API call. */
  onStarted?: (runId: number) => void;
  /** The counters to fill, for a caller that watches the run as it goes; a fresh set by default. */
  stats?: RunStats;
}

// Stored as text in sync_runs.error; long lists of failures are summarised, not dumped.
const MAX_FAILURES_KEPT = 50;

export async function runSync(deps: RunDeps): Promise<RunOutcome> {
  const { db } = deps;
  const runId = await startRun(db.orm, deps.upstreamCorpid);
  deps.onStarted?.(runId);
  const log = deps.log.child({ runId });
  const stats = deps.stats ?? emptyStats();
  const stop = new AbortController();
  const signal = AbortSignal.any([deps.signal, deps.lost, stop.signal].filter((s) => s !== undefined));
  let fatal: unknown;
  let settled = false;
  log.info({ upstreamCorpid: deps.upstreamCorpid }, 'sync started');
  // What an earlier run merged but did not analyse (it was killed before its end, say) is analysed while
  // the first calls go out, for the dashboards: a run that never ends (a deadline shorter than a first load)
  // would otherwise never leave statistics behind. The merges do not need them (merge-sql.ts).
  const statisticsRefreshed = refreshPlannerStatistics(db, log);
  try {
    const chains = distinctChains(await deps.api.getChainList(), log);
    stats.chains.listed = chains.length;
    const removed = await removeUnlistedChains(
      db,
      deps.upstreamCorpid,
      runId,
      chains.map((c) => c.chainId),
    );
    stats.rows.chains.removed += removed.chains;
    stats.rows.chain_groups.removed += removed.groups;
    stats.rows.chain_corps.removed += removed.corps;

    const ctx: CrawlContext = {
      api: deps.api,
      db,
      upstreamCorpid: deps.upstreamCorpid,
      runId,
      pageSize: deps.sync.pageSize,
      details: { mode: deps.sync.details, maxAgeMs: deps.sync.detailsMaxAgeHours * 3_600_000 },
      ...crawlLimits(deps.apiConcurrency, deps.sync.pageSize),
      stats,
      signal,
      now: deps.now ?? Date.now,
    };
    // Each chain stages on a session of its own; PGlite's sessions share one connection.
    const concurrency = Math.min(deps.sync.chainConcurrency, db.concurrentSessions);
    fatal = await syncChains(ctx, chains, concurrency, log, stop);
    // A signal that came once every chain was merged, or failed on its own, stopped nothing: the run ends as
    // its chains did. (A chain the signal stopped is neither.)
    settled = stats.chains.completed + stats.chains.failed === chains.length;
    if (deps.signal?.aborted && !settled) fatal ??= deps.signal.reason;
    else if (deps.lost?.aborted) fatal ??= deps.lost.reason;
    else if (fatal === undefined) await refreshPlannerStatistics(db, log);
  } catch (err) {
    fatal ??= err;
  }
  await statisticsRefreshed;
  stats.api = deps.api.stats();
  const status = statusOf(stats, fatal, (deps.signal?.aborted ?? false) && !settled);
  const error = fatal !== undefined ? describe(fatal) : summariseFailures(stats);
  await finishRun(db.orm, runId, status, stats, error);
  if (stats.details_failed > 0) {
    log.warn(
      { corps: stats.details_failed, errors: stats.api.errors.get_chain_corpinfo },
      'some corps are stored without new details: get_chain_corpinfo failed for them; asked again next run',
    );
  }
  // At the level its status calls for, with why it did not succeed: a scheduler has no other word of it.
  log[FINISHED_LEVEL[status]](
    { status, error: error ?? undefined, chains: stats.chains, rows: stats.rows, api: stats.api.calls },
    'sync finished',
  );
  return { runId, status, stats, fatal };
}

/**
 * Crawls and merges the chains, `concurrency` at a time. A chain that fails is recorded and the others go
 * on, unless its error is not the chain's own (isChainScoped): that one stops them all, and is returned.
 */
async function syncChains(
  ctx: CrawlContext,
  chains: readonly Chain[],
  concurrency: number,
  log: Logger,
  stop: AbortController,
): Promise<unknown> {
  let fatal: unknown;
  const limit = pLimit(concurrency);
  await Promise.all(
    chains.map((chain) =>
      limit(async () => {
        if (ctx.signal.aborted) return;
        const err = await syncOneChain(ctx, chain, log);
        if (err !== undefined && !isChainScoped(err)) {
          fatal ??= err;
          stop.abort(err);
        }
      }),
    ),
  );
  return fatal;
}

/** One chain, counted in the run's stats; the error it failed with, unless the run was stopping anyway. */
async function syncOneChain(ctx: CrawlContext, chain: Chain, log: Logger): Promise<unknown> {
  const { stats } = ctx;
  const started = performance.now();
  try {
    const counts = await syncChain(ctx, chain);
    for (const t of TABLES) addCounts(stats.rows[t], counts[t]);
    stats.chains.completed += 1;
    log.info(
      { chainId: chain.chainId, ms: Math.round(performance.now() - started), rows: counts },
      'chain synced',
    );
    return undefined;
  } catch (err) {
    if (ctx.signal.aborted && !isChainScoped(err)) return undefined;
    stats.chains.failed += 1;
    if (stats.failures.length < MAX_FAILURES_KEPT) {
      stats.failures.push({ chain_id: chain.chainId, error: describe(err) });
    }
    log.warn(
      { chainId: chain.chainId, err: describe(err) },
      'chain not synced: its stored rows are unchanged',
    );
    return err;
  }
}

/**
 * Analyses the tables changed beyond autovacuum's threshold (db/statistics.ts). A run calls it as it
 * starts, and again once its merges are done. Never throws: the data is merged either way, and stale
 * statistics only make the dashboards' queries slower until autovacuum comes by.
 */
async function refreshPlannerStatistics(db: Database, log: Logger): Promise<void> {
  const started = performance.now();
  try {
    const { analysed, busy } = await refreshStatistics(db);
    if (analysed.length > 0)
      log.info(
        { tables: analysed, ms: Math.round(performance.now() - started) },
        'planner statistics refreshed',
      );
    if (busy.length > 0)
      log.warn({ tables: busy }, 'planner statistics left to autovacuum: another session holds the tables');
  } catch (err) {
    log.warn({ err: describe(err) }, 'planner statistics not refreshed');
  }
}

const FINISHED_LEVEL = {
  succeeded: 'info',
  partial: 'warn',
  aborted: 'warn',
  failed: 'error',
} as const satisfies Record<FinishedStatus, 'info' | 'warn' | 'error'>;

function statusOf(stats: RunStats, fatal: unknown, aborted: boolean): FinishedStatus {
  if (aborted) return 'aborted';
  if (fatal !== undefined) return 'failed';
  if (stats.chains.failed === 0) return 'succeeded';
  return stats.chains.completed > 0 ? 'partial' : 'failed';
}

function summariseFailures(stats: RunStats): string | null {
  const { failed } = stats.chains;
  if (failed === 0) return null;
  const first = stats.failures[0];
  return `${failed} chain(s) not synced; first: ${first?.chain_id}: ${first?.error}`;
}

export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // drizzle's wrapper says only "Failed query: <the SQL> params: <its values>"; the driver's error is its cause.
  if (err.message.startsWith('Failed query:') && err.cause instanceof Error) return err.cause.message;
  return err.message;
}

/** A chain listed twice is crawled once: a second merge would see its own changes as the run's and churn history. */
function distinctChains(chains: Chain[], log: Logger): Chain[] {
  const byId = new Map(chains.map((c) => [c.chainId, c] as const));
  if (byId.size < chains.length)
    log.warn({ listed: chains.length, distinct: byId.size }, 'get_chain_list repeated chain ids');
  return [...byId.values()];
}
