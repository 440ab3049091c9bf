// Planner statistics for the tables a run wrote, for the dashboards that read them. Autovacuum refreshes them
// in its own time, a minute or more after a load, and never where it is off; until then the planner guesses
// what share of a freshly loaded table a condition selects. So the run does what autovacuum would. (The
// merges themselves plan without them: merge-sql.ts, MERGE_SETTINGS.)

import type { Database } from './database.ts';

/**
 * Last before a commit that wrote to the analysed tables. A backend reports its write counters when idle, but
 * may put that off for seconds; forced, it reports them as the commit returns, so the ANALYZE that ends the
 * run (refreshStatistics) sees them all, and resets them, instead of leaving the next run to find them and
 * analyse again.
 */
export const FLUSH_WRITE_COUNTERS = 'select pg_stat_force_next_flush()';

const ANALYSED_TABLES = [
  'chains',
  'chain_groups',
  'chain_corps',
  'chain_group_history',
  'chain_corp_history',
] as const;
export type AnalysedTable = (typeof ANALYSED_TABLES)[number];

interface TableState {
  relname: AnalysedTable;
  modified: number;
  /** Rows at the last analysis; -1 when never analysed. */
  reltuples: number;
  threshold: number;
  scale: number;
}

/**
 * How long an ANALYZE waits for its table's lock (held by a manual VACUUM, a CREATE INDEX CONCURRENTLY,
 * another ANALYZE) before leaving the table to autovacuum: a run must not wait for someone else's
 * maintenance to end, nor keep a shutdown waiting past its deadline.
 */
const LOCK_TIMEOUT_MS = 1_000;
const LOCK_NOT_AVAILABLE = '55P03';

export interface StatisticsRefresh {
  analysed: AnalysedTable[];
  /** Due, but their lock was held by someone else for LOCK_TIMEOUT_MS. */
  busy: AnalysedTable[];
}

/**
 * Analyses each table whose rows changed since its last analysis (n_mod_since_analyze, which every writer of
 * these tables reports as it commits: FLUSH_WRITE_COUNTERS) beyond autovacuum's threshold
 * (`autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × rows`).
 */
export async function refreshStatistics(db: Database): Promise<StatisticsRefresh> {
  const { rows } = await db.query<TableState>(
    `select s.relname, s.n_mod_since_analyze::float8 as modified, c.reltuples::float8 as reltuples,
            current_setting('autovacuum_analyze_threshold')::float8 as threshold,
            current_setting('autovacuum_analyze_scale_factor')::float8 as scale
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = 'wecom' and s.relname = any($1::text[])`,
    [ANALYSED_TABLES],
  );
  const stale = rows
    .filter((t) => t.modified > t.threshold + t.scale * Math.max(t.reltuples, 0))
    .map((t) => t.relname);
  // One statement per table, at once: on a pool they run on as many connections, which halves the wait for
  // the two big tables on two cores.
  const done = await Promise.all(stale.map((t) => analyze(db, t)));
  return { analysed: stale.filter((_, i) => done[i]), busy: stale.filter((_, i) => !done[i]) };
}

/** Analyses `table`; false when its lock stayed held by someone else. */
async function analyze(db: Database, table: AnalysedTable): Promise<boolean> {
  const session = await db.session();
  try {
    await session.query(`select set_config('lock_timeout', $1, false)`, [String(LOCK_TIMEOUT_MS)]);
    try {
      await session.query(`analyze wecom.${table}`);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return false;
      throw err;
    } finally {
      await session.query('reset lock_timeout');
    }
  } finally {
    session.release();
  }
}
