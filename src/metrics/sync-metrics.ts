// What Prometheus sees of the job. Counters add up across runs in a long-running scheduler; a batch `run`
// pushes them once at the end (one process, one run).
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { TABLES } from '../db/row-counts.ts';
import type { LastRun } from '../db/runs.ts';
import type { RunOutcome } from '../sync/run.ts';
import { errorKey } from '../wecom/stats.ts';

const KINDS = ['inserted', 'updated', 'unchanged', 'removed'] as const;
const OUTCOMES = ['succeeded', 'partial', 'failed', 'aborted'] as const satisfies RunOutcome['status'][];

export class SyncMetrics {
  readonly registry = new Registry();
  readonly running: Gauge;
  readonly #runs: Counter;
  readonly #lastDuration: Gauge;
  readonly #lastRun: Gauge;
  readonly #lastSuccess: Gauge;
  readonly #chains: Gauge;
  readonly #calls: Counter;
  readonly #errors: Counter;
  readonly #retries: Counter;
  readonly #rows: Counter;
  readonly #detailsFailed: Counter;
  /** What #errors holds, by endpoint and errcode: a scheduler's series outlive its runs, so does their cap. */
  readonly #errorTotals: Record<string, Record<string, number>> = {};

  constructor(options: { processMetrics: boolean }) {
    const registers = [this.registry];
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
    const gauge = (name: string, help: string, labelNames: string[] = []) =>
      new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, labelNames: string[] = []) =>
      new Counter({ name, help, labelNames, registers });
    this.running = gauge('wecom_sync_running', '1 while a sync is running');
    this.#runs = counter('wecom_sync_runs_total', 'Finished syncs by outcome', ['status']);
    this.#lastDuration = gauge('wecom_sync_last_run_duration_seconds', 'Wall time of the last finished sync');
    this.#lastRun = gauge('wecom_sync_last_run_timestamp_seconds', 'When the last sync finished');
    this.#lastSuccess = gauge(
      'wecom_sync_last_success_timestamp_seconds',
      'When the last successful sync finished',
    );
    this.#chains = gauge('wecom_sync_last_run_chains', 'Chains in the last sync, by state', ['state']);
    this.#calls = counter('wecom_sync_api_calls_total', 'HTTP requests sent to WeCom', ['endpoint']);
    this.#errors = counter('wecom_sync_api_errors_total', 'Failed WeCom calls by errcode or kind', [
      'endpoint',
      'errcode',
    ]);
    this.#retries = counter('wecom_sync_api_retries_total', 'Retried WeCom calls', ['endpoint']);
    this.#rows = counter('wecom_sync_rows_total', 'Rows written, by table and kind', ['table', 'kind']);
    this.#detailsFailed = counter(
      'wecom_sync_details_failed_total',
      'Joined corps stored without new details: get_chain_corpinfo refused, or answered in a shape that does not fit, for them alone',
    );
    // Every outcome's series from the start: increase() sees nothing of a series that appears at 1, so an
    // alert on failed runs would miss the first one after every restart.
    for (const status of OUTCOMES) this.#runs.inc({ status }, 0);
  }

  /**
   * From the database: set when a scheduler starts, or its staleness alerts would fire on every restart
   * until the first sync ends; and after every sync, so a push after a failure does not erase it.
   */
  lastSuccess(at: Date | null): void {
    if (at) this.#lastSuccess.set(at.getTime() / 1000);
  }

  /** The last finished run as the database holds it, for a scheduler that starts (as lastSuccess()). */
  lastRun(run: LastRun | null): void {
    if (run) this.#setLastRun(run);
  }

  /** A finished sync; `lastSuccessAt` as for lastSuccess(). */
  observe(outcome: RunOutcome, seconds: number, lastSuccessAt: Date | null): void {
    const { stats } = outcome;
    this.#runs.inc({ status: outcome.status });
    this.#setLastRun({ finishedAt: new Date(), seconds, chains: stats.chains });
    this.lastSuccess(lastSuccessAt);
    for (const [endpoint, n] of Object.entries(stats.api.calls)) this.#calls.inc({ endpoint }, n);
    for (const [endpoint, n] of Object.entries(stats.api.retries)) this.#retries.inc({ endpoint }, n);
    for (const [endpoint, byCode] of Object.entries(stats.api.errors)) {
      this.#errorTotals[endpoint] ??= {};
      const totals = this.#errorTotals[endpoint];
      for (const [code, n] of Object.entries(byCode)) {
        const errcode = errorKey(totals, code);
        totals[errcode] = (totals[errcode] ?? 0) + n;
        this.#errors.inc({ endpoint, errcode }, n);
      }
    }
    this.#detailsFailed.inc(stats.details_failed);
    for (const table of TABLES) {
      for (const kind of KINDS) this.#rows.inc({ table, kind }, stats.rows[table][kind]);
    }
  }

  #setLastRun({ finishedAt, seconds, chains }: LastRun): void {
    this.#lastDuration.set(seconds);
    this.#lastRun.set(finishedAt.getTime() / 1000);
    this.#chains.set({ state: 'listed' }, chains.listed);
    this.#chains.set({ state: 'completed' }, chains.completed);
    this.#chains.set({ state: 'failed' }, chains.failed);
  }
}
