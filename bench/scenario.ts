// One network size: a first sync into empty tables, a no-change re-run, and a plain COPY of the same rows
// into an unindexed table for comparison — repeated, each sync in a child process of its own.
import { pipeline } from 'node:stream/promises';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import type { SimNetwork, Simulator } from '../src/simulator/index.ts';
import { achievedRates, type Bounds, bounds } from './bounds.ts';
import { type Calibration, calibrate } from './calibrate.ts';
import { type ChildResult, runChild } from './child.ts';
import { type BenchDatabase, latestRun } from './db.ts';
import {
  type OwnWal,
  settledTableWrites,
  type TableWrites,
  type TimedWrites,
  timedWrites,
  type WalWritten,
  walDuring,
  writesDelta,
} from './measure.ts';
import { dependentCalls, generate, joinedCount, startBenchSimulator, syncEnv } from './workload.ts';

export interface SyncSettings {
  latencyMs: number;
  concurrency: number;
  /** WECOM_RATE_LIMIT_PER_MIN: the client's cap, per endpoint. */
  capPerMin: number;
  /** The simulator's own limit per endpoint (WeCom's is 10,000). */
  simRatePerMin: number;
  pageSize: number;
  nodeFlags: string[];
  /** The environment the image sets (the Dockerfile's ENV, NODE_COMPILE_CACHE aside). */
  env: Record<string, string>;
  /** NODE_COMPILE_CACHE for the measured CLI, filled beforehand as the image build fills it; null: none. */
  compileCache: string | null;
  /** The checkout whose `src/cli/main.ts run` is measured (this one unless --repo names another). */
  repo: string;
}

export interface SyncMeasurement {
  exitCode: number | null;
  status: string;
  wallS: number;
  /** started_at → finished_at of the run record: the process's wall time less start-up and exit. */
  syncS: number;
  cpuS: number;
  peakRssMb: number;
  lateRssMb: number;
  peakHeapUsedMb: number;
  /** The bench process meanwhile (the simulator), and the machine's busy share. */
  simCpuS: number;
  machineBusy: number;
  calls: Record<string, number>;
  retries: number;
  inFlightMax: number;
  connectionsPeak: number;
  connectionsOpened: number;
  corpRows: { inserted: number; updated: number; unchanged: number; removed: number };
  /** pg_stat_user_tables deltas for wecom.chain_corps. */
  corpWrites: TableWrites;
  /** pg_current_wal_lsn() before and after: the whole cluster's WAL meanwhile. */
  walBytes: number;
  /** The part of it that touched the bench database (null when it could not be read back). */
  ownWal: OwnWal | null;
  bounds: Bounds;
  ratio: number;
  strictRatio: number;
  rates: Record<string, { perS: number; ofCap: number }>;
}

export interface CopyTiming extends TimedWrites {
  rows: number;
}

export interface SizeResult {
  corps: number;
  joined: number;
  groups: number;
  chains: number;
  /** A minimal client's effective latency against this simulator, just before the runs. */
  calibration: Calibration;
  first: SyncMeasurement[];
  again: SyncMeasurement[];
  plainCopy: CopyTiming[];
}

export interface RunPlan {
  /** First runs into empty tables. */
  firstRuns: number;
  /** No-change re-runs after each first run. */
  reRuns: number;
}

export async function benchSize(
  db: BenchDatabase,
  corps: number,
  settings: SyncSettings,
  plan: RunPlan,
  log: (line: string) => void,
): Promise<SizeResult> {
  const network = generate(corps);
  const stats = network.stats();
  const sim = await startBenchSimulator(network, settings.latencyMs, settings.simRatePerMin);
  try {
    const calibration = await calibrate(sim.url, settings.concurrency);
    log(`  ${corps} corps: a minimal client sees ${calibration.latencyMs.toFixed(1)} ms per call`);
    const result: SizeResult = {
      corps,
      joined: joinedCount(network),
      groups: stats.groups,
      chains: stats.chains,
      calibration,
      first: [],
      again: [],
      plainCopy: [],
    };
    for (let r = 1; r <= plan.firstRuns; r++) {
      await db.reset();
      const first = await measuredSync(db, sim, network, settings, true);
      result.first.push(first);
      log(`  ${corps} corps, first run ${r}/${plan.firstRuns}: ${describeRun(first)}`);
      for (let a = 1; a <= plan.reRuns; a++) {
        // Production re-runs come hours later, after autovacuum has visited the new rows (and this
        // server may have autovacuum off): do its vacuum now, outside the measurement. Not its analyze:
        // the job analyses what it wrote itself, and a re-run must be measured on what the job left. And
        // after a checkpoint (checkpoint_timeout is 5 minutes): the first change of each page after one
        // writes the whole page to the WAL, which a re-run right after the first run would not pay.
        await db.pool.query('vacuum');
        await db.pool.query('checkpoint').catch((err: Error) => {
          log(`  no CHECKPOINT before the re-run (${err.message}): its WAL is lower than in production`);
        });
        const again = await measuredSync(db, sim, network, settings, false);
        result.again.push(again);
        log(`  ${corps} corps, no-change re-run ${a}/${plan.reRuns}: ${describeRun(again)}`);
      }
      result.plainCopy.push(await copyOfStoredCorps(db));
    }
    return result;
  } finally {
    await sim.close();
  }
}

function describeRun(m: SyncMeasurement): string {
  const wal = m.ownWal ? `${(m.ownWal.bytes / 1e6).toFixed(2)} MB own` : 'n/a own';
  return (
    `${m.wallS.toFixed(1)} s (bound ${m.bounds.lowerBoundS.toFixed(1)} s, ×${m.ratio.toFixed(2)}), ` +
    `cpu ${m.cpuS.toFixed(1)} s, peak rss ${m.peakRssMb.toFixed(0)} MB, ` +
    `wal ${(m.walBytes / 1e6).toFixed(2)} MB (${wal}), corp rows written ${m.corpWrites.ins + m.corpWrites.upd}, ` +
    `machine busy ${(m.machineBusy * 100).toFixed(0)}%`
  );
}

/**
 * Fills the compile cache the way the Dockerfile does at image build (`compile-cache`, same node flags), with
 * the benchmark's probe preloaded so that it is cached too and no measured run loads the TypeScript stripper.
 */
export async function fillCompileCache(s: SyncSettings): Promise<void> {
  if (!s.compileCache) return;
  const child = await runChild({
    nodeArgs: [...s.nodeFlags, 'src/cli/main.ts', 'compile-cache'],
    cwd: s.repo,
    simPort: 0,
    env: { ...s.env, NODE_COMPILE_CACHE: s.compileCache },
  });
  if (child.exitCode !== 0)
    throw new Error(`compile-cache exited with ${child.exitCode}:\n${child.stderrTail}`);
}

export async function measuredSync(
  db: BenchDatabase,
  sim: Simulator,
  network: SimNetwork,
  s: SyncSettings,
  firstRun: boolean,
  script = ['src/cli/main.ts', 'run'],
): Promise<SyncMeasurement> {
  const writesBefore = await settledTableWrites(db.pool, 'wecom', 'chain_corps');
  sim.resetCalls();
  const { value: child, wal } = await walDuring(db.pool, () =>
    runChild({
      nodeArgs: [...s.nodeFlags, ...script],
      cwd: s.repo,
      simPort: Number(new URL(sim.url).port),
      env: {
        ...s.env,
        ...syncEnv(db.url, sim.url, s.pageSize),
        WECOM_RATE_LIMIT_PER_MIN: String(s.capPerMin),
        // An hour of the minute's cap: the hourly cap can never bind before the minute's, so the bound
        // stands on the minute cap alone (WeCom's own 150,000 an hour would make a 1M load take hours).
        WECOM_RATE_LIMIT_PER_HOUR: String(s.capPerMin * 60),
        WECOM_CONCURRENCY: String(s.concurrency),
        LOG_LEVEL: 'warn',
        ...(s.compileCache ? { NODE_COMPILE_CACHE: s.compileCache } : {}),
      },
    }),
  );
  if (child.exitCode !== 0) {
    throw new Error(`the sync exited with ${child.exitCode}:\n${child.stderrTail}`);
  }
  const corpWrites = writesDelta(writesBefore, await settledTableWrites(db.pool, 'wecom', 'chain_corps'));
  const run = await latestRun(db.pool);
  return summarise(child, run, sim, network, s, firstRun, wal, corpWrites);
}

function summarise(
  child: ChildResult,
  run: Awaited<ReturnType<typeof latestRun>>,
  sim: Simulator,
  network: SimNetwork,
  s: SyncSettings,
  firstRun: boolean,
  wal: WalWritten,
  corpWrites: TableWrites,
): SyncMeasurement {
  const calls = Object.fromEntries(Object.entries(run.stats.api.calls).filter(([, n]) => n > 0));
  const wallS = child.wallMs / 1000;
  const b = bounds({
    calls,
    capPerMin: s.capPerMin,
    latencyMs: s.latencyMs,
    concurrency: s.concurrency,
    dependentCalls: dependentCalls(network, s.pageSize, firstRun),
  });
  return {
    exitCode: child.exitCode,
    status: run.status,
    wallS,
    syncS: run.syncMs / 1000,
    cpuS: (child.userMs + child.sysMs) / 1000,
    peakRssMb: child.peakRssKb / 1024,
    lateRssMb: child.lateRssKb / 1024,
    peakHeapUsedMb: child.peakHeapUsedKb / 1024,
    simCpuS: child.benchCpuMs / 1000,
    machineBusy: child.machineBusy,
    calls,
    retries: Object.values(run.stats.api.retries).reduce((a, b) => a + b, 0),
    inFlightMax: sim.inFlightMax,
    connectionsPeak: child.connectionsPeak,
    connectionsOpened: child.connectionsOpened,
    corpRows: run.stats.rows.chain_corps!,
    corpWrites,
    walBytes: wal.bytes,
    ownWal: wal.own,
    bounds: b,
    ratio: wallS / b.lowerBoundS,
    strictRatio: wallS / b.strictBoundS,
    rates: achievedRates(calls, wallS, s.capPerMin),
  };
}

/**
 * Copies the stored corp rows out and times COPYing them back into fresh tables of the same columns; with
 * `history`, their versions too (into a second table); `indexed`, with the tables' indexes and checks, which
 * with `history` is the floor for storing each corp and its first version in this schema. Rows counted: the
 * corps.
 */
export async function copyOfStoredCorps(
  db: BenchDatabase,
  { history = false, indexed = false } = {},
): Promise<CopyTiming> {
  const tables = history ? ['chain_corps', 'chain_corp_history'] : ['chain_corps'];
  const client = await db.pool.connect();
  try {
    const copies: { name: string; chunks: Buffer[] }[] = [];
    for (const table of tables) {
      const name = `public.bench_copy_${table}`;
      const chunks: Buffer[] = [];
      for await (const chunk of client.query(copyTo(`copy wecom.${table} to stdout`))) chunks.push(chunk);
      await client.query(`drop table if exists ${name}`);
      await client.query(`create table ${name} (like wecom.${table}${indexed ? ' including all' : ''})`);
      copies.push({ name, chunks });
    }
    const { rows } = await client.query('select count(*)::int as n from wecom.chain_corps');
    const timed = await timedWrites(db.pool, async () => {
      for (const { name, chunks } of copies) {
        await pipeline(chunks.values(), client.query(copyFrom(`copy ${name} from stdin`)));
      }
    });
    for (const { name } of copies) await client.query(`drop table ${name}`);
    return { rows: rows[0].n, ...timed };
  } finally {
    client.release();
  }
}
