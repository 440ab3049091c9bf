// One sync as `run` and each `schedule` tick perform it: take the corp's lock, clear up after dead runs,
// crawl with a fresh client, let go of everything whatever happens.
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { RunLock } from '../db/run-lock.ts';
import { recentCalls } from '../db/runs.ts';
import type { Logger } from '../log.ts';
import { type ApiStats, WecomClient } from '../wecom/client.ts';
import type { PriorCalls } from '../wecom/prior-calls.ts';
import { type RunOutcome, runSync } from './run.ts';
import { emptyStats, type RunStats } from './stats.ts';

export interface JobDeps {
  config: Config;
  db: Database;
  log: Logger;
  /** Shutdown: stop starting requests, finish or roll back the chain being written, record 'aborted'. */
  signal: AbortSignal;
  /** Called when the run starts, with its live counters (for a progress display). */
  watch?: (live: LiveRun) => void;
}

export interface LiveRun {
  runId: number;
  stats: RunStats;
  api: () => ApiStats;
}

/** Throws LockHeldError, having written nothing, when another sync of the same corp is running. */
export async function syncOnce({ config, db, log, signal, watch }: JobDeps): Promise<RunOutcome> {
  const upstreamCorpid = config.wecom.corpId;
  const lock = await RunLock.acquire(db, upstreamCorpid);
  try {
    if (lock.tookOverFrom) {
      log.warn(
        { pid: lock.tookOverFrom.pid, idleSeconds: lock.tookOverFrom.idleSeconds },
        'took the sync lock over from a connection whose process is gone',
      );
    }
    for (const stale of await lock.abortStaleRuns()) {
      log.warn({ staleRunId: stale.id, lastHeartbeat: stale.heartbeat_at }, 'marked a dead run aborted');
    }
    const stop = AbortSignal.any([signal, lock.lost]);
    // WeCom counts calls per corp and hour, across processes: an hour's earlier runs spent part of it.
    const priorCalls = await recentCalls(db, upstreamCorpid);
    logPriorCalls(log, priorCalls, config.wecom.ratePerHour);
    const client = new WecomClient({ ...config.wecom, signal: stop, priorCalls });
    const stats = emptyStats();
    try {
      return await runSync({
        db,
        api: client,
        upstreamCorpid,
        sync: config.sync,
        apiConcurrency: config.wecom.concurrency,
        log,
        signal,
        lost: lock.lost,
        onStarted: (runId) => {
          lock.startHeartbeat(runId);
          watch?.({ runId, stats, api: () => client.stats() });
        },
        stats,
      });
    } finally {
      await client.close();
    }
  } finally {
    await lock.release();
  }
}

/** Says so when earlier runs spent more than half an endpoint's hour: this run may have to wait for it. */
function logPriorCalls(log: Logger, prior: readonly PriorCalls[], perHour: number): void {
  const spent: Record<string, number> = {};
  for (const { endpoint, calls } of prior) spent[endpoint] = (spent[endpoint] ?? 0) + calls;
  if (Object.values(spent).some((calls) => calls > perHour / 2)) {
    log.info(
      { calls: spent, perHour },
      'runs of the last hour spent much of the hourly call limit: this run may wait for it',
    );
  }
}

/**
 * Connections a sync needs: one per chain being staged, the lock's, the run record's, one spare. The
 * ANALYZEs as a run starts borrow from them too (db/statistics.ts): chains starting then wait for them,
 * for a second at most beyond the ANALYZEs' own time.
 */
export function poolSizeFor(config: Config): number {
  return config.sync.chainConcurrency + 3;
}
