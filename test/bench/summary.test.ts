// The benchmark's report: what it says of the lower bound and of targets it did not measure.
import { describe, expect, it } from 'vitest';
import { bounds } from '../../bench/bounds.ts';
import type { SyncSettings } from '../../bench/scenario.ts';
import { targets } from '../../bench/summary.ts';
import type { Pass, WritePathRun } from '../../bench/write-path.ts';

describe('the benchmark report', () => {
  it("labels the lower bound with its own binding term, not the strict bound's", () => {
    // 30k corps under a cap of 60,000 a minute: the cap binds the bound, while the sliding window lets
    // every call go in the first minute, so the strict bound is the concurrency term.
    const b = bounds({
      calls: { get_chain_corpinfo: 25_500, get_chain_corpinfo_list: 500 },
      capPerMin: 60_000,
      latencyMs: 20,
      concurrency: 32,
      dependentCalls: 10,
    });
    expect(b.lowerBoundS).toBeCloseTo(25.5);
    expect(b.lowerBoundBinding).toBe('rate');
    expect(b.binding).toBe('concurrency');
  });

  it('judges the write path against a plain COPY of every row a first load writes, and shows the others', () => {
    const pass = (rowsPerS: number): Pass => ({
      rows: 30_000,
      rowsPerS,
      rowsWritten: 30_000,
      s: 0,
      walBytes: 0,
      ownWalBytes: 0,
    });
    const run = (merge: number): WritePathRun => ({
      stageMerge: pass(merge),
      stageMergeAgain: pass(1),
      stageMergeRenamed: pass(1),
      stageMergeJoined: pass(1),
      plainCopy: pass(400_000),
      plainCopyAll: pass(200_000),
      indexedCopy: pass(64_000),
      upsert: pass(1),
      upsertAgain: pass(1),
    });
    const writePath = (merge: number) =>
      targets([], run(merge), { concurrency: 32 } as SyncSettings).find((t) =>
        t.target.includes('write path'),
      );
    expect(writePath(44_000)).toEqual({
      target: 'first-load write path ≥ 20% of a plain COPY of the same rows (rows/s)',
      measured:
        '22.0% of a plain COPY of every row it writes, corps and versions (11.0% of one of the corps alone; 69% of a COPY into the same indexed tables)',
      met: true,
    });
    expect(writePath(39_000)?.met).toBe(false);
  });

  it('gives no verdict on the targets of sizes it did not run', () => {
    const settings = { concurrency: 32 } as SyncSettings;
    const verdicts = targets([], null, settings).map((t) => t.met);
    expect(verdicts.every((met) => met === null)).toBe(true);
  });
});
