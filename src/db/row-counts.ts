// What a merge did to the rows of each table it writes: counted per chain, summed per run.

export const TABLES = ['chains', 'chain_groups', 'chain_corps'] as const;
export type TableName = (typeof TABLES)[number];

export interface RowCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  removed: number;
}

export const zeroCounts = (): RowCounts => ({ inserted: 0, updated: 0, unchanged: 0, removed: 0 });

/** Rows written: each carries the run's id in changed_run_id. */
export const changedRows = (c: RowCounts): number => c.inserted + c.updated + c.removed;

export function addCounts(into: RowCounts, add: RowCounts): void {
  into.inserted += add.inserted;
  into.updated += add.updated;
  into.unchanged += add.unchanged;
  into.removed += add.removed;
}
