// The sync_runs record: written when a run starts, finished when it ends, whatever the outcome.
import { eq } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import type { RunStats } from '../sync/stats.ts';
import { CLOSE_REMOVED_CHAINS_HISTORY, REMOVE_UNLISTED_CHAINS } from './merge-sql.ts';
import { syncRuns } from './schema.ts';

export type FinishedStatus = 'succeeded' | 'partial' | 'failed' | 'aborted';

export async function startRun(db: NodePgDatabase, upstreamCorpid: string): Promise<number> {
  const [row] = await db.insert(syncRuns).values({ upstreamCorpid }).returning({ id: syncRuns.id });
  return row!.id;
}

export async function finishRun(
  db: NodePgDatabase,
  runId: number,
  status: FinishedStatus,
  stats: RunStats,
  error: string | null,
): Promise<void> {
  await db
    .update(syncRuns)
    .set({ status, stats, error, finishedAt: new Date() })
    .where(eq(syncRuns.id, runId));
}

export interface RemovedChains {
  chains: number;
  groups: number;
  corps: number;
}

/** Marks removed every stored chain that a complete get_chain_list no longer returns, with its contents. */
export async function removeUnlistedChains(
  pool: pg.Pool,
  upstreamCorpid: string,
  runId: number,
  listedChainIds: readonly string[],
): Promise<RemovedChains> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rows } = await client.query(REMOVE_UNLISTED_CHAINS, [upstreamCorpid, runId, listedChainIds]);
    for (const statement of CLOSE_REMOVED_CHAINS_HISTORY)
      await client.query(statement, [upstreamCorpid, runId]);
    await client.query('commit');
    return rows[0];
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export async function lastSuccessAt(pool: pg.Pool, upstreamCorpid: string): Promise<Date | null> {
  const { rows } = await pool.query(
    `select max(finished_at) as at from wecom.sync_runs where upstream_corpid = $1 and status = 'succeeded'`,
    [upstreamCorpid],
  );
  return rows[0].at;
}
