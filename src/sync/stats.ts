// Counters a run accumulates and stores in sync_runs.stats. Plain JSON, so BI can query it.
import { type RowCounts, type TableName, zeroCounts } from '../db/row-counts.ts';
import type { ApiStats } from '../wecom/client.ts';

export interface ChainFailure {
  chain_id: string;
  error: string;
}

export interface RunStats {
  chains: { listed: number; started: number; completed: number; failed: number };
  /** Group listings (the root included) of the chains whose tree was read, and how many are done. */
  groups: { listed: number; done: number };
  pages: number;
  corps_listed: number;
  details_fetched: number;
  /** Joined corps whose get_chain_corpinfo failed for that corp alone: stored without new details. */
  details_failed: number;
  /** Current corps no listing returned, asked about one by one before being marked removed. */
  missing_rechecked: number;
  /** Of those, the ones WeCom still had (moved while the chain was listed): kept, not removed. */
  missing_found: number;
  rows: Record<TableName, RowCounts>;
  api: ApiStats;
  failures: ChainFailure[];
}

export function emptyStats(): RunStats {
  return {
    chains: { listed: 0, started: 0, completed: 0, failed: 0 },
    groups: { listed: 0, done: 0 },
    pages: 0,
    corps_listed: 0,
    details_fetched: 0,
    details_failed: 0,
    missing_rechecked: 0,
    missing_found: 0,
    rows: { chains: zeroCounts(), chain_groups: zeroCounts(), chain_corps: zeroCounts() },
    api: { calls: {}, retries: {}, errors: {}, tokenRefreshes: 0 },
    failures: [],
  };
}
