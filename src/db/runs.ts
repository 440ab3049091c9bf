// The sync_runs record: written when a run starts, finished when it ends, whatever the outcome.
import { setTimeout as delay } from 'node:timers/promises';
import type { RunStats } from '../sync/stats.ts';
import type { PriorCalls } from '../wecom/prior-calls.ts';
import { type Database, inTransaction, type Queryable } from './database.ts';
import { drizzleModule, type Orm } from './drizzle.ts';
import { assertRunning, isDatabaseUnavailable } from './errors.ts';
import { CLOSE_REMOVED_CHAINS_HISTORY } from './history-sql.ts';
import { REMOVE_UNLISTED_CHAINS, RUN_STATUS } from './merge-sql.ts';
import { type runStatus, syncRuns } from './schema.ts';
import { FLUSH_WRITE_COUNTERS } from './statistics.ts';

const { eq, sql } = drizzleModule('drizzle-orm');

/** How a run can end: the enum's values but 'running'. */
export type FinishedStatus = Exclude<(typeof runStatus.enumValues)[number], 'running'>;

export async function startRun(orm: Orm, upstreamCorpid: string): Promise<number> {
  const [row] = await orm.insert(syncRuns).values({ upstreamCorpid }).returning({ id: syncRuns.id });
  return row!.id;
}

// A database that restarts or fails over as a run ends would leave the run 'running', and the next run would
// take it for one whose process died: its end is written again while the server comes back, at the first of
// these times after the first attempt that is still ahead (an attempt may itself take the pool's 10 s connect
// timeout, against an address that never answers): 7 s at most, then it gives up.
const FINISH_RETRY_AT_MS = [1_000, 3_000, 7_000];

export async function finishRun(
  orm: Orm,
  runId: number,
  status: FinishedStatus,
  stats: RunStats,
  error: string | null,
): Promise<void> {
  const started = performance.now();
  // A run another sync took over keeps the status and error that sync gave it (aborted), but gets its stats:
  // the calls it made count against WeCom's hour for the runs after it (recentCalls).
  const running = sql`${syncRuns.status} = 'running'`;
  for (;;) {
    try {
      await orm
        .update(syncRuns)
        .set({
          stats,
          status: sql`case when ${running} then ${status}::wecom.sync_run_status else ${syncRuns.status} end`,
          error: sql`case when ${running} then ${error} else ${syncRuns.error} end`,
          // The database's clock, as for started_at: a pod's clock that is off would skew freshness.
          finishedAt: sql`case when ${running} then clock_timestamp() else ${syncRuns.finishedAt} end`,
        })
        .where(eq(syncRuns.id, runId));
      return;
    } catch (err) {
      const elapsed = performance.now() - started;
      const next = FINISH_RETRY_AT_MS.find((at) => at > elapsed);
      if (next === undefined || !isDatabaseUnavailable(err)) throw err;
      await delay(next - elapsed);
    }
  }
}

export interface RemovedChains {
  chains: number;
  groups: number;
  corps: number;
}

/** Marks removed every stored chain that a complete get_chain_list no longer returns, with its contents. */
export async function removeUnlistedChains(
  db: Database,
  upstreamCorpid: string,
  runId: number,
  listedChainIds: readonly string[],
): Promise<RemovedChains> {
  const session = await db.session();
  let failed = false;
  try {
    return await inTransaction(session, async () => {
      const { rows } = await session.query(REMOVE_UNLISTED_CHAINS, [upstreamCorpid, runId, listedChainIds]);
      for (const statement of CLOSE_REMOVED_CHAINS_HISTORY)
        await session.query(statement, [upstreamCorpid, runId]);
      // Read once the chains' rows are locked (see RUN_STATUS).
      assertRunning(runId, await session.query(RUN_STATUS, [runId]));
      await session.query(FLUSH_WRITE_COUNTERS);
      return rows[0] as RemovedChains;
    });
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // After a failure the connection may be gone or mid-transaction: never reuse it.
    session.release(failed);
  }
}

export async function lastSuccessAt(db: Queryable, upstreamCorpid: string): Promise<Date | null> {
  const { rows } = await db.query(
    `select max(finished_at) as at from wecom.sync_runs where upstream_corpid = $1 and status = 'succeeded'`,
    [upstreamCorpid],
  );
  return rows[0].at;
}

/** The corp's last finished run, as a scheduler's metrics report it. */
export interface LastRun {
  finishedAt: Date;
  seconds: number;
  chains: { listed: number; completed: number; failed: number };
}

export async function lastRun(db: Queryable, upstreamCorpid: string): Promise<LastRun | null> {
  const { rows } = await db.query(
    `select finished_at, extract(epoch from finished_at - started_at)::float8 as seconds, stats -> 'chains' as chains
     from wecom.sync_runs where upstream_corpid = $1 and finished_at is not null
     order by finished_at desc limit 1`,
    [upstreamCorpid],
  );
  const r = rows[0];
  if (!r) return null;
  const count = (key: string) => Number(r.chains?.[key] ?? 0) || 0;
  return {
    finishedAt: r.finished_at,
    seconds: Math.max(0, r.seconds),
    chains: { listed: count('listed'), completed: count('completed'), failed: count('failed') },
  };
}

/**
 * The API calls, per endpoint, of this corp's runs that ended within the last hour, each with its age at
 * the database's clock. A run killed before it finished recorded none: those calls are not known here.
 */
export async function recentCalls(db: Queryable, upstreamCorpid: string): Promise<PriorCalls[]> {
  const { rows } = await db.query(
    `select c.key as endpoint, c.value::bigint as calls,
            extract(epoch from clock_timestamp() - r.finished_at) * 1000 as age_ms
     from wecom.sync_runs r,
          jsonb_each_text(case when jsonb_typeof(r.stats -> 'api' -> 'calls') = 'object'
                               then r.stats -> 'api' -> 'calls' else '{}' end) c
     where r.upstream_corpid = $1 and r.finished_at > clock_timestamp() - interval '1 hour'
       and c.value ~ '^[0-9]{1,12}$'`,
    [upstreamCorpid],
  );
  return rows.map((r) => ({ endpoint: r.endpoint, calls: Number(r.calls), ageMs: Number(r.age_ms) }));
}
