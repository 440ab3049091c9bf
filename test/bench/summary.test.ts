// The benchmark's report: what it says of the lower bound and of targets it did not measure.
import { describe, expect, it } from 'vitest';
import { bounds } from '../../bench/bounds.ts';
import type { SyncSettings } from '../../bench/scenario.ts';
import { targets } from '../../bench/summary.ts';

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

  it('gives no verdict on the targets of sizes it did not run', () => {
    const settings = { concurrency: 32 } as SyncSettings;
    const verdicts = targets([], null, settings).map((t) => t.met);
    expect(verdicts.every((met) => met === null)).toBe(true);
  });
});
