// The shapes of the expected model: rows and versions as docs/schema.md defines them, with timestamps
// kept as symbolic instants until the database tells what they were (see resolveInstants in compare.ts).
// A symbol says which transaction stamped it, which is all the doc promises about a timestamp.

/** `${run}|rc`: the run's removal of chains the list left out. `${run}|m|${chain}`: a chain's merge. */
export type Instant = string;

export const removalInstant = (run: number): Instant => `${run}|rc`;
export const mergeInstant = (run: number, chainId: string): Instant => `${run}|m|${chainId}`;

/** Runs are sequential; within one, the chain removal commits before any merge. */
export function instantOrder(s: Instant): number {
  const [run, phase] = s.split('|');
  return Number(run) * 2 + (phase === 'rc' ? 0 : 1);
}

/** Per table: the stats.rows shape of a run. */
export interface RowCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  removed: number;
}
export type Table = 'chains' | 'chain_groups' | 'chain_corps';
export const TABLES: readonly Table[] = ['chains', 'chain_groups', 'chain_corps'];

/** What one run should do beyond the rows' contents: which rows it rewrites, what it counts. */
export interface RoundTally {
  /** Rows the run (re)writes: 'chains:c', 'groups:c/g', 'corps:c/k'; every other row keeps its xmin. */
  writes: Set<string>;
  counts: Record<Table, RowCounts>;
  /** The run's expected stats.details_failed. */
  detailFailures: number;
}

export function emptyTally(): RoundTally {
  const zero = () => ({ inserted: 0, updated: 0, unchanged: 0, removed: 0 });
  return {
    writes: new Set(),
    counts: { chains: zero(), chain_groups: zero(), chain_corps: zero() },
    detailFailures: 0,
  };
}

/** Fields every row has. changedRun is the doc's changed_run_id, which only a change moves. */
interface Stamps {
  firstSeen: Instant;
  updated: Instant;
  removed: Instant | null;
}

export interface ChainRow extends Stamps {
  name: string;
  lastSynced: Instant;
  lastRun: number;
}

export interface GroupFields {
  groupid: number;
  name: string;
  parentid: number;
  order: number;
}
export interface GroupRow extends GroupFields, Stamps {
  changedRun: number;
}

export interface CorpFields {
  key: string;
  corpid: string | null;
  pending: string | null;
  name: string;
  custom: string;
  groupid: number;
  invite: string | null;
  joined: boolean;
  qual: number | null;
}
export interface CorpRow extends CorpFields, Stamps {
  detailsAt: Instant | null;
  changedRun: number;
}

/** A history version: valid from..to, opened and closed by these runs. */
interface Validity {
  from: Instant;
  to: Instant | null;
  opened: number;
  closed: number | null;
}
export type GroupVersion = GroupFields & Validity;
export interface CorpVersion extends CorpFields, Validity {
  entity: string;
  /** Creation order, for versions opened at the same instant. */
  seq: number;
}

export interface ChainState {
  chain: ChainRow;
  groups: Map<number, GroupRow>;
  corps: Map<string, CorpRow>;
  groupVersions: GroupVersion[];
  corpVersions: CorpVersion[];
  versionsOpened: number;
}

/** Closes the open versions `which` selects, at `at` in `run`. */
export function closeVersions<V extends Validity>(
  versions: V[],
  which: (v: V) => boolean,
  at: Instant,
  run: number,
): void {
  for (const v of versions)
    if (v.to === null && which(v)) {
      v.to = at;
      v.closed = run;
    }
}
