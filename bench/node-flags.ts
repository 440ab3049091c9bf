// Compares sets of node flags on one network's no-change re-runs: one first sync, then re-runs that take the
// sets in turn, round after round, so that the machine's drift falls on every set alike. Each re-run is
// measured as `npm run bench` measures a sync (a child process of its own, with the Dockerfile's ENV and a
// filled compile cache). The default latency of 1 ms makes the re-runs CPU-bound, the worst case for peak RSS
// (docs/benchmarks.md, finding 2). It reports; it asserts nothing.
//
//   node bench/node-flags.ts [--corps 1000000] [--groups N] [--latency 1] [--rounds 5]
//     [--flags="--max-semi-space-size=4 --max-old-space-size=128" …] [--admin-url URL]
//
// Each --flags names a set ("=" is needed, as the value starts with "--"); the Dockerfile ENTRYPOINT's flags
// are always the first set, and the first sync runs with them. --groups puts the corps in N groups of one
// chain (default: the benchmark's shape, a group per 100 corps).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SimNetwork } from '../src/simulator/index.ts';
import { ADMIN_URL, createBenchDatabase } from './db.ts';
import { deployedNode } from './deployed.ts';
import { median } from './measure.ts';
import { fillCompileCache, measuredSync, type SyncMeasurement, type SyncSettings } from './scenario.ts';
import { generate, specFor, startBenchSimulator } from './workload.ts';

const { values: a } = parseArgs({
  options: {
    corps: { type: 'string', default: '1000000' },
    groups: { type: 'string' },
    latency: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '5' },
    flags: { type: 'string', multiple: true, default: [] },
    'admin-url': { type: 'string', default: ADMIN_URL },
  },
});
const repo = new URL('..', import.meta.url).pathname;
const deployed = deployedNode(repo);
const sets = [deployed.flags, ...a.flags].map((f) => f.split(' ').filter(Boolean));
const corps = Number(a.corps);
const network = a.groups
  ? SimNetwork.generate({ ...specFor(corps, 1), groups: Number(a.groups) })
  : generate(corps);
const compileCache = mkdtempSync(join(tmpdir(), 'wcs-bench-cache-'));
const settings = (nodeFlags: string[]): SyncSettings => ({
  latencyMs: Number(a.latency),
  concurrency: 32,
  capPerMin: 1_000_000,
  simRatePerMin: 1_000_000_000,
  pageSize: 100,
  nodeFlags,
  env: deployed.env,
  compileCache,
  repo,
});
const sim = await startBenchSimulator(network, Number(a.latency), 1_000_000_000);
// A name of its own: creating a bench database drops one of the same name, and another run may be using it.
const db = await createBenchDatabase(String(a['admin-url']), `wcs_bench_flags_${process.pid}`);
const line = (label: string, m: SyncMeasurement) =>
  `${label}: peak RSS ${m.peakRssMb.toFixed(1)} MiB, CPU ${m.cpuS.toFixed(1)} s, wall ${m.wallS.toFixed(1)} s`;
try {
  // Heap sizes do not key the compile cache, so one fill serves every set.
  await fillCompileCache(settings(sets[0]!));
  process.stderr.write(
    `${line('first sync', await measuredSync(db, sim, network, settings(sets[0]!), true))}\n`,
  );
  await db.pool.query('vacuum');
  const runs: SyncMeasurement[][] = sets.map(() => []);
  for (let round = 1; round <= Number(a.rounds); round++) {
    for (const [i, flags] of sets.entries()) {
      const m = await measuredSync(db, sim, network, settings(flags), false);
      runs[i]!.push(m);
      process.stderr.write(`${line(`round ${round}, ${flags.join(' ')}`, m)}\n`);
    }
  }
  console.log(
    `| node flags | peak RSS MiB, median (min–max) | CPU s, median | wall s, median |\n|---|---|---|---|`,
  );
  for (const [i, flags] of sets.entries()) {
    const rss = runs[i]!.map((m) => m.peakRssMb);
    console.log(
      `| \`${flags.join(' ')}\` | ${median(rss).toFixed(1)} (${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)}) ` +
        `| ${median(runs[i]!.map((m) => m.cpuS)).toFixed(1)} | ${median(runs[i]!.map((m) => m.wallS)).toFixed(1)} |`,
    );
  }
} finally {
  await sim.close();
  await db.drop();
  rmSync(compileCache, { recursive: true, force: true });
}
