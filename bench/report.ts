// The report: Markdown for people (and docs/benchmarks.md), JSON with every measurement for tools.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport, SizeSummary } from './summary.ts';
import type { Pass, WritePathRun } from './write-path.ts';

const f = (n: number, digits = 1) => n.toFixed(digits);
const int = (n: number) => Math.round(n).toLocaleString('en');
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const header = (cells: string[]) => [row(cells), row(cells.map((_c, i) => (i === 0 ? '---' : '---:')))];

function targetsTable(r: BenchReport): string[] {
  const mark = (met: boolean | null) => (met === null ? '–' : met ? 'yes' : '**no**');
  return [
    '## Targets',
    '',
    row(['target', 'measured', 'met']),
    row(['---', '---', '---']),
    ...r.targets.map((t) => row([t.target, t.measured, mark(t.met)])),
  ];
}

function wallTable(sizes: SizeSummary[]): string[] {
  return [
    '## Wall time against the lower bound (first run into empty tables)',
    '',
    'Lower bound = max(busiest endpoint calls / rate cap, all calls × latency / WECOM_CONCURRENCY), with the',
    "simulator's nominal latency; the calibrated bound uses instead the latency a minimal client measured",
    'against the same simulator just before (bench/calibrate.ts).',
    '',
    ...header([
      'corps',
      'runs',
      'API calls',
      'wall s',
      'sync s',
      'lower bound s',
      'real / bound',
      'calibrated latency ms',
      'calibrated bound s',
      'real / calibrated',
    ]),
    ...sizes.map((z) =>
      row([
        int(z.corps),
        z.firstRuns,
        int(z.totalCalls),
        f(z.wallS),
        f(z.syncS),
        `${f(z.lowerBoundS)} (${z.binding})`,
        f(z.ratio, 2),
        f(z.calibratedLatencyMs),
        f(z.calibratedBoundS),
        f(z.calibratedRatio, 2),
      ]),
    ),
  ];
}

function callsTable(sizes: SizeSummary[], capPerMin: number): string[] {
  const endpoints = [...new Set(sizes.flatMap((z) => Object.keys(z.calls)))];
  return [
    `## API calls by endpoint, and achieved rate against the cap (${int(capPerMin)}/min = ${int(capPerMin / 60)}/s per endpoint)`,
    '',
    ...header(['corps', ...endpoints.map((e) => `${e}: calls, calls/s, % of cap`)]),
    ...sizes.map((z) =>
      row([
        int(z.corps),
        ...endpoints.map((e) => {
          const r = z.rates[e];
          return r ? `${int(z.calls[e]!)}, ${f(r.perS)}, ${f(r.ofCap * 100, 2)}%` : '–';
        }),
      ]),
    ),
  ];
}

function databaseTable(sizes: SizeSummary[]): string[] {
  const src = sizes.every((z) => z.walSource === 'own') ? 'own database' : 'whole cluster';
  return [
    '## Database',
    '',
    `WAL: ${src} (pg_walinspect, records of the bench database only, when available). Rows rewritten: `,
    'pg_stat_user_tables n_tup_ins + n_tup_upd deltas for wecom.chain_corps (n_tup_hot_upd is part of n_tup_upd).',
    '',
    ...header([
      'corps',
      'first run: corp rows/s',
      'first run WAL MB',
      'plain COPY rows/s',
      'plain COPY WAL MB',
      're-run wall s',
      're-run calls',
      're-run corp rows rewritten',
      're-run WAL MB',
      're-run WAL % of first',
    ]),
    ...sizes.map((z) =>
      row([
        int(z.corps),
        int(z.corpRowsPerS),
        f(z.firstWalMb),
        int(z.plainCopyRowsPerS),
        f(z.plainCopyWalMb),
        f(z.again.wallS),
        int(z.again.totalCalls),
        z.again.rewrittenMax,
        f(z.again.walMb, 3),
        f(z.again.walPctOfFirst, 2),
      ]),
    ),
  ];
}

function resourcesTable(sizes: SizeSummary[]): string[] {
  return [
    '## CPU and memory of the sync process (first run; child process, simulator not counted)',
    '',
    ...header([
      'corps',
      'CPU s (user+sys)',
      'CPU s per 1,000 corps',
      'peak RSS MiB (median / max)',
      'RSS in 2nd half MiB',
      're-run peak RSS MiB',
      'simulator CPU s',
      'machine busy',
      'in flight max',
      'connections open max / opened',
    ]),
    ...sizes.map((z) =>
      row([
        int(z.corps),
        f(z.cpuS),
        f(z.cpuPer1kCorpsS, 3),
        `${f(z.peakRssMb, 0)} / ${f(z.maxPeakRssMb, 0)}`,
        f(z.lateRssMb, 0),
        f(z.again.peakRssMb, 0),
        f(z.simCpuS),
        `${f(z.machineBusy * 100, 0)}%`,
        z.inFlightMax,
        `${z.connectionsPeak} / ${z.connectionsOpened}`,
      ]),
    ),
  ];
}

function comparisons(r: BenchReport): string[] {
  const out: string[] = [];
  if (r.rateBound) {
    const { run, capPerMin, simRatePerMin, corps } = r.rateBound;
    const b = run.bounds;
    out.push(
      `## Rate cap as the binding constraint (${int(corps)} corps, cap ${int(capPerMin)}/min, simulator ${int(simRatePerMin)}/min)`,
      '',
      `${int(run.calls[b.busiestEndpoint] ?? 0)} ${b.busiestEndpoint} calls: wall ${f(run.wallS)} s; calls / cap = ${f(b.rateS)} s ` +
        `(real / that ×${f(run.ratio, 2)}); with a sliding 60 s window the first ${int(capPerMin)} calls may go at once, ` +
        `so the last cannot start before ${f(b.rateWindowS)} s (real / that ×${f(run.strictRatio, 2)}). ` +
        `Retries: ${run.retries} (a 45009 from the simulator would show here).`,
      '',
    );
  }
  if (r.baseline) {
    const { baseline: b, job, corps, speedup } = r.baseline;
    out.push(
      `## Against a hand-written sequential crawler with per-row upserts (${int(corps)} corps, same run)`,
      '',
      ...header(['', 'wall s', 'corps/s', 'CPU s', 'peak RSS MiB', 'API calls']),
      ...[['baseline (bench/baseline.ts)', b] as const, ['wecom-chain-sync run', job] as const].map(
        ([name, m]) =>
          row([
            name,
            f(m.wallS),
            f(corps / m.wallS),
            f(m.cpuS),
            f(m.peakRssMb, 0),
            int(Object.values(m.calls).reduce((a, c) => a + c, 0)),
          ]),
      ),
      '',
      `Speed-up: ×${f(speedup)} at ${int(corps)} corps. Per corp, against the sizes above: ` +
        r.sizes.map((z) => `×${f(z.corps / z.wallS / (corps / b.wallS))} at ${int(z.corps)}`).join(', ') +
        '.',
      '',
    );
  }
  if (r.writePath) out.push(...writePathSection(r.writePath));
  return out;
}

/** The write-path comparison: in the benchmark's report, and printed alone by bench/write-path.ts. */
export function writePathSection(w: {
  rows: number;
  median: WritePathRun;
  runs: readonly WritePathRun[];
}): string[] {
  const m = w.median;
  const line = (name: string, p: Pass) =>
    row([
      name,
      int(p.rows),
      f(p.s, 2),
      int(p.rowsPerS),
      p.ownWalBytes === null ? 'n/a' : f(p.ownWalBytes / 1e6, 2),
      f(p.walBytes / 1e6, 2),
      int(p.rowsWritten),
    ]);
  return [
    `## Write path without HTTP (${int(w.rows)} corps, median of ${w.runs.length})`,
    '',
    ...header(['pass', 'rows', 's', 'rows/s', 'own WAL MB', 'cluster WAL MB', 'corp rows written']),
    line('stage (COPY) + merge, first load', m.stageMerge),
    line('stage (COPY) + merge, no change', m.stageMergeAgain),
    line('stage (COPY) + merge, every corp renamed', m.stageMergeRenamed),
    line('stage (COPY) + merge, then every pending corp joined', m.stageMergeJoined),
    line('plain COPY into an empty unindexed table', m.plainCopy),
    line('plain COPY of the corps and their versions into empty unindexed tables', m.plainCopyAll),
    line('COPY into empty tables with the same indexes (corps + history)', m.indexedCopy),
    line('one INSERT … ON CONFLICT per row, first load', m.upsert),
    line('one INSERT … ON CONFLICT per row, no change', m.upsertAgain),
    '',
    `First load through the write path: ${f((m.stageMerge.rowsPerS / m.plainCopy.rowsPerS) * 100)}% of plain COPY's rows/s, ` +
      `${f((m.stageMerge.rowsPerS / m.plainCopyAll.rowsPerS) * 100)}% of a plain COPY of every row it writes ` +
      `(corps and versions), ${f((m.stageMerge.rowsPerS / m.indexedCopy.rowsPerS) * 100)}% of the indexed COPY's; ` +
      `×${f(m.stageMerge.rowsPerS / m.upsert.rowsPerS)} per-row upserts.`,
    '',
  ];
}

/** The image's environment as the report states it: "env A=1 B=2, ", or nothing. */
function envText(env: Record<string, string>): string {
  const set = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return set.length ? `env ${set.join(' ')}, ` : '';
}

export function markdown(r: BenchReport): string {
  const s = r.settings;
  return [
    `# wecom-chain-sync benchmark, ${r.date}`,
    '',
    `Machine: ${Object.entries(r.machine)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}.`,
    `Settings: simulator latency ${s.latencyMs} ms, WECOM_CONCURRENCY ${s.concurrency}, WECOM_RATE_LIMIT_PER_MIN ${int(s.capPerMin)}, ` +
      `SYNC_PAGE_SIZE ${s.pageSize}, node flags "${s.nodeFlags.join(' ')}", ${envText(s.env)}${s.compileCache ? 'compile cache filled beforehand (as the image ships it)' : 'no compile cache'}. Medians over the runs shown.`,
    '',
    ...targetsTable(r),
    '',
    ...wallTable(r.sizes),
    '',
    ...callsTable(r.sizes, s.capPerMin),
    '',
    ...databaseTable(r.sizes),
    '',
    ...resourcesTable(r.sizes),
    '',
    ...comparisons(r),
  ].join('\n');
}

export function writeReport(dir: string, r: BenchReport): { md: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const md = join(dir, 'latest.md');
  const json = join(dir, 'latest.json');
  writeFileSync(md, markdown(r));
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(join(dir, `run-${r.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(r)}\n`);
  return { md, json };
}
