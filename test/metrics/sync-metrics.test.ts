// The errors counter of a scheduler lives as long as its process: the cap on an endpoint's errcodes holds
// across its runs, not only within one.
import { expect, it } from 'vitest';
import { SyncMetrics } from '../../src/metrics/sync-metrics.ts';
import { emptyStats } from '../../src/sync/stats.ts';
import { MAX_ERROR_KEYS } from '../../src/wecom/stats.ts';

it('keeps at most MAX_ERROR_KEYS errcodes and other per endpoint, however many runs bring new ones', async () => {
  const metrics = new SyncMetrics({ processMetrics: false });
  for (let run = 0; run < 3; run++) {
    const stats = emptyStats();
    // Each run, as many codes as one run may count, none seen before.
    const codes = Array.from({ length: MAX_ERROR_KEYS }, (_, i) => [String(70_000 + run * 100 + i), 1]);
    stats.api.errors = { get_chain_corpinfo: Object.fromEntries(codes) };
    metrics.observe({ runId: run + 1, status: 'succeeded', stats, fatal: undefined }, 1, null);
  }
  const { values } = (await metrics.registry.getSingleMetric('wecom_sync_api_errors_total')!.get()) as {
    values: { labels: Record<string, string>; value: number }[];
  };
  expect(values).toHaveLength(MAX_ERROR_KEYS + 1);
  expect(values.find((v) => v.labels.errcode === 'other')?.value).toBe(2 * MAX_ERROR_KEYS);
  expect(values.reduce((sum, v) => sum + v.value, 0)).toBe(3 * MAX_ERROR_KEYS);
});

it('has a runs_total series at 0 for every outcome before any run, so the first one is an increase', async () => {
  const metrics = new SyncMetrics({ processMetrics: false });
  const text = await metrics.registry.metrics();
  for (const status of ['succeeded', 'partial', 'failed', 'aborted'])
    expect(text).toContain(`wecom_sync_runs_total{status="${status}"} 0`);
});
