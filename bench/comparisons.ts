// The two runs that put the sizes in context: the job against the hand-written baseline on the same
// network, and a small run where the client's per-endpoint rate cap, not the concurrency, is the limit.
import { runChild } from './child.ts';
import type { BenchDatabase } from './db.ts';
import { measuredSync, type SyncMeasurement, type SyncSettings } from './scenario.ts';
import { generate, joinedCount, startBenchSimulator, syncEnv } from './workload.ts';

const BASELINE = new URL('./baseline.ts', import.meta.url).pathname;

export interface BaselineMeasurement {
  wallS: number;
  cpuS: number;
  peakRssMb: number;
  calls: Record<string, number>;
  corpRows: number;
}

export interface BaselineComparison {
  corps: number;
  baseline: BaselineMeasurement;
  /** The job on the same network, in the same run. */
  job: SyncMeasurement;
  /** Baseline wall time / job wall time. */
  speedup: number;
}

export async function benchBaseline(
  db: BenchDatabase,
  corps: number,
  settings: SyncSettings,
  log: (line: string) => void,
): Promise<BaselineComparison> {
  const network = generate(corps);
  const sim = await startBenchSimulator(network, settings.latencyMs, settings.simRatePerMin);
  try {
    await db.reset();
    sim.resetCalls();
    const child = await runChild({
      nodeArgs: [...settings.nodeFlags, BASELINE],
      cwd: settings.repo,
      simPort: Number(new URL(sim.url).port),
      env: syncEnv(db.url, sim.url, settings.pageSize),
    });
    if (child.exitCode !== 0)
      throw new Error(`the baseline exited with ${child.exitCode}:\n${child.stderrTail}`);
    const { rows } = await db.pool.query('select count(*)::int as n from wecom.chain_corps');
    const baseline: BaselineMeasurement = {
      wallS: child.wallMs / 1000,
      cpuS: (child.userMs + child.sysMs) / 1000,
      peakRssMb: child.peakRssKb / 1024,
      calls: Object.fromEntries(Object.entries(sim.calls).filter(([, n]) => n > 0)),
      corpRows: rows[0].n,
    };
    log(`  baseline, ${corps} corps: ${baseline.wallS.toFixed(1)} s, ${baseline.corpRows} corp rows`);
    await db.reset();
    const job = await measuredSync(db, sim, network, settings, true);
    log(`  job, ${corps} corps: ${job.wallS.toFixed(1)} s`);
    return { corps, baseline, job, speedup: baseline.wallS / job.wallS };
  } finally {
    await sim.close();
  }
}

export interface RateBoundRun {
  corps: number;
  /** The client's cap (WECOM_RATE_LIMIT_PER_MIN) and the simulator's, 5% above it as WeCom's is. */
  capPerMin: number;
  simRatePerMin: number;
  run: SyncMeasurement;
}

/**
 * A first run whose get_chain_corpinfo calls exceed the cap by about a tenth: the client must send the
 * cap's worth, wait for the oldest calls to leave the 60 s window, then send the rest.
 */
export async function benchRateBound(
  db: BenchDatabase,
  corps: number,
  settings: SyncSettings,
  log: (line: string) => void,
): Promise<RateBoundRun> {
  const network = generate(corps);
  const capPerMin = Math.max(1, Math.floor(joinedCount(network) / 1.1));
  const simRatePerMin = Math.ceil(capPerMin / 0.95);
  const sim = await startBenchSimulator(network, settings.latencyMs, simRatePerMin);
  try {
    await db.reset();
    const run = await measuredSync(db, sim, network, { ...settings, capPerMin, simRatePerMin }, true);
    log(
      `  rate-bound, ${corps} corps, cap ${capPerMin}/min: ${run.wallS.toFixed(1)} s ` +
        `(bound ${run.bounds.lowerBoundS.toFixed(1)} s, window-exact ${run.bounds.strictBoundS.toFixed(1)} s)`,
    );
    return { corps, capPerMin, simRatePerMin, run };
  } finally {
    await sim.close();
  }
}
