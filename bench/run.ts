// `npm run bench`: runs the sync against the simulator at several sizes, each run in a child process of
// its own, on a fresh database, and writes bench/results/latest.{md,json}. It reports; it asserts nothing.
//
//   npm run bench -- [--sizes 10000,30000,100000] [--million] [--latency 20] [--concurrency 32]
//     [--rate-cap 1000000] [--repeat 3] [--repeat-large 1] [--page-size 100] [--baseline-size 1000]
//     [--rate-size 2000] [--write-rows 30000] [--upsert-rows 2000] [--node-flags=...] [--cold] [--out DIR]
//     [--repo DIR] [--admin-url URL]     (default: BENCH_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test)
//
// A size of 0 skips that part (--baseline-size 0, --rate-size 0, --write-rows 0). The sync runs as the
// Dockerfile starts it: with its ENTRYPOINT's node flags unless --node-flags="..." says otherwise ("=" is
// needed, as the value starts with "--"), and, when it sets NODE_COMPILE_CACHE, with a compile cache filled
// beforehand as the image build fills it, unless --cold. --repo measures the CLI of another checkout (a
// patched copy, say) with this benchmark; the write path always uses this one's src/.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBaseline, benchRateBound } from './comparisons.ts';
import { ADMIN_URL, createBenchDatabase } from './db.ts';
import { deployedNode } from './deployed.ts';
import { writeReport } from './report.ts';
import { benchSize, fillCompileCache, type SizeResult, type SyncSettings } from './scenario.ts';
import { type BenchReport, summariseSize, targets } from './summary.ts';
import { generate } from './workload.ts';
import { measureWritePath, medianRun, type WritePathRun } from './write-path.ts';

const LARGE = 100_000;

const { values: a } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,30000,100000' },
    million: { type: 'boolean', default: false },
    latency: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '32' },
    'rate-cap': { type: 'string', default: '1000000' },
    repeat: { type: 'string', default: '3' },
    'repeat-large': { type: 'string', default: '1' },
    'page-size': { type: 'string', default: '100' },
    'baseline-size': { type: 'string', default: '1000' },
    'rate-size': { type: 'string', default: '2000' },
    'write-rows': { type: 'string', default: '30000' },
    'upsert-rows': { type: 'string', default: '2000' },
    'node-flags': { type: 'string' },
    cold: { type: 'boolean', default: false },
    repo: { type: 'string', default: new URL('..', import.meta.url).pathname },
    out: { type: 'string', default: new URL('./results', import.meta.url).pathname },
    'admin-url': { type: 'string', default: ADMIN_URL },
  },
});

const num = (name: keyof typeof a): number => {
  const v = Number(a[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0, got ${a[name]}`);
  return v;
};
const sizes = String(a.sizes)
  .split(',')
  .map((s) => Number(s.trim()))
  .filter((n) => n > 0);
if (a.million && !sizes.includes(1_000_000)) sizes.push(1_000_000);

const deployed = deployedNode(String(a.repo));
const settings: SyncSettings = {
  latencyMs: num('latency'),
  concurrency: num('concurrency'),
  capPerMin: num('rate-cap'),
  // The simulator must not be what limits these runs: only the client's own cap.
  simRatePerMin: 1_000_000_000,
  pageSize: num('page-size'),
  nodeFlags: String(a['node-flags'] ?? deployed.flags)
    .split(' ')
    .filter(Boolean),
  env: deployed.env,
  compileCache: deployed.compileCache && !a.cold ? mkdtempSync(join(tmpdir(), 'wcs-bench-cache-')) : null,
  repo: String(a.repo),
};
const repeat = Math.max(1, num('repeat'));
const repeatLarge = Math.max(1, num('repeat-large'));
const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();
const loadAtStart = loadavg()[0]!.toFixed(2);
const elapsed = () => `[${((performance.now() - started) / 1000).toFixed(0)} s]`;

const db = await createBenchDatabase(String(a['admin-url']), 'wcs_bench');
try {
  await fillCompileCache(settings);
  const raw: SizeResult[] = [];
  for (const corps of sizes) {
    log(`${elapsed()} ${corps} corps`);
    // Big sizes run fewer first runs; their cheap no-change re-runs are repeated instead.
    const firstRuns = corps >= LARGE ? repeatLarge : repeat;
    raw.push(await benchSize(db, corps, settings, { firstRuns, reRuns: Math.ceil(repeat / firstRuns) }, log));
  }

  const rateSize = num('rate-size');
  if (rateSize > 0) log(`${elapsed()} rate-bound run, ${rateSize} corps`);
  const rateBound = rateSize > 0 ? await benchRateBound(db, rateSize, settings, log) : null;

  const baselineSize = num('baseline-size');
  if (baselineSize > 0) log(`${elapsed()} baseline, ${baselineSize} corps`);
  const baseline = baselineSize > 0 ? await benchBaseline(db, baselineSize, settings, log) : null;

  const writeRows = num('write-rows');
  let writePath: BenchReport['writePath'] = null;
  if (writeRows > 0) {
    log(`${elapsed()} write path, ${writeRows} corps`);
    const network = generate(writeRows);
    const runs: WritePathRun[] = [];
    for (let r = 0; r < repeat; r++) {
      runs.push(
        await measureWritePath(db, network, { pageSize: settings.pageSize, upsertRows: num('upsert-rows') }),
      );
    }
    writePath = { rows: writeRows, median: medianRun(runs), runs };
  }

  const { rows } = await db.pool.query('show server_version');
  const summaries = raw.map((r) => summariseSize(r, settings));
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      'cpu model': cpus()[0]?.model ?? '?',
      'memory GB': Math.round(totalmem() / 2 ** 30),
      node: process.version,
      postgres: rows[0].server_version,
      'load average at start': loadAtStart,
    },
    settings: { ...settings, repeat, repeatLarge, sizes },
    sizes: summaries,
    rateBound,
    baseline,
    writePath,
    targets: targets(summaries, writePath?.median ?? null, settings),
    raw,
  };
  const files = writeReport(String(a.out), report);
  log(`${elapsed()} done: ${files.md}, ${files.json}`);
} finally {
  await db.drop();
  if (settings.compileCache) rmSync(settings.compileCache, { recursive: true, force: true });
}
