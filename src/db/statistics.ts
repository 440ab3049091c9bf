// Planner statistics for the tables a run wrote. Autovacuum refreshes them in its own time: not before the
// next run when runs follow each other closely, and never where it is off. A merge planned on a table never
// analysed estimates one row per chain and may join the chain's rows with themselves row by row (closing
// one changed corp's version in a 13k-corp chain: 70 s instead of 10 ms), so the run does what autovacuum
// would.

import type { Queryable } from './database.ts';

const ANALYSED_TABLES = [
  'chains',
  'chain_groups',
  'chain_corps',
  'chain_group_history',
  'chain_corp_history',
] as const;
export type AnalysedTable = (typeof ANALYSED_TABLES)[number];
/** Rows a run inserted, updated or deleted, by table. */
export type RowsWritten = Partial<Record<AnalysedTable, number>>;

interface TableState {
  relname: AnalysedTable;
  modified: number;
  /** Rows at the last analysis; -1 when never analysed. */
  reltuples: number;
  threshold: number;
  scale: number;
}

/**
 * Analyses each table whose rows changed since its last analysis beyond autovacuum's threshold
 * (`autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × rows`). `written` is what this run
 * wrote, in case the server's counter (n_mod_since_analyze) does not have it all yet: a backend may report
 * its writes seconds late, and only the merges force theirs out. Returns the tables analysed.
 */
export async function refreshStatistics(db: Queryable, written: RowsWritten): Promise<AnalysedTable[]> {
  const { rows } = await db.query<TableState>(
    `select s.relname, s.n_mod_since_analyze::float8 as modified, c.reltuples::float8 as reltuples,
            current_setting('autovacuum_analyze_threshold')::float8 as threshold,
            current_setting('autovacuum_analyze_scale_factor')::float8 as scale
     from pg_stat_user_tables s join pg_class c on c.oid = s.relid
     where s.schemaname = 'wecom' and s.relname = any($1::text[])`,
    [ANALYSED_TABLES],
  );
  const stale = rows
    .filter((t) => {
      const changed = Math.max(t.modified, written[t.relname] ?? 0);
      return changed > t.threshold + t.scale * Math.max(t.reltuples, 0);
    })
    .map((t) => t.relname);
  // One statement per table, at once: on a pool they run on as many connections, which halves the wait for
  // the two big tables on two cores.
  await Promise.all(stale.map((t) => db.query(`analyze wecom.${t}`)));
  return stale;
}
