// Progress of a running sync: a live status line on a terminal, a log line every few seconds otherwise.
// On a terminal the status line and the logs share stderr; every log line clears the status first and
// redraws it after, so neither corrupts the other.
import { Writable } from 'node:stream';
import type { Logger } from '../log.ts';
import { type JobDeps, type LiveRun, syncOnce } from '../sync/job.ts';
import type { RunOutcome } from '../sync/run.ts';

const REDRAW_MS = 200;
const LOG_EVERY_MS = 5_000;
const CLEAR_LINE = '\r\x1b[K';

export interface ProgressSnapshot {
  chains: string;
  groups: string;
  pages: number;
  corps: number;
  callsPerSecond: number;
  retries: number;
  elapsedSeconds: number;
  /** Null until there is enough done to extrapolate from. */
  remainingSeconds: number | null;
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export function snapshot(live: LiveRun, elapsedMs: number): ProgressSnapshot {
  const { stats } = live;
  const api = live.api();
  const { listed, started, completed, failed } = stats.chains;
  // Chains not started yet are assumed to have as many groups as the average of those that are.
  const expectedGroups = started === 0 ? 0 : (stats.groups.listed / started) * listed;
  const done = expectedGroups === 0 ? 0 : stats.groups.done / expectedGroups;
  return {
    chains: `${completed + failed}/${listed}`,
    groups: `${stats.groups.done}/${stats.groups.listed}`,
    pages: stats.pages,
    corps: stats.corps_listed,
    callsPerSecond: elapsedMs > 0 ? Math.round(sum(api.calls) / (elapsedMs / 1000)) : 0,
    retries: sum(api.retries),
    elapsedSeconds: Math.round(elapsedMs / 1000),
    remainingSeconds: done > 0.02 ? Math.round(((elapsedMs / 1000) * (1 - done)) / done) : null,
  };
}

export function formatSnapshot(s: ProgressSnapshot): string {
  const eta = s.remainingSeconds === null ? '…' : `~${s.remainingSeconds}s`;
  return `chains ${s.chains}  groups ${s.groups}  pages ${s.pages}  corps ${s.corps}  ${s.callsPerSecond} calls/s  retries ${s.retries}  elapsed ${s.elapsedSeconds}s  left ${eta}`;
}

/** The terminal's stderr, shared by a status line and the log lines written through `logStream`. */
export class TerminalStatus {
  readonly #out: NodeJS.WriteStream;
  #line = '';
  readonly logStream: Writable;

  constructor(out: NodeJS.WriteStream) {
    this.#out = out;
    this.logStream = new Writable({
      write: (chunk, _encoding, done) => {
        this.#out.write(`${CLEAR_LINE}${chunk}${this.#line}`);
        done();
      },
    });
  }

  show(line: string): void {
    this.#line = line.slice(0, Math.max(20, (this.#out.columns ?? 120) - 1));
    this.#out.write(`${CLEAR_LINE}${this.#line}`);
  }

  clear(): void {
    this.#line = '';
    this.#out.write(CLEAR_LINE);
  }
}

/** A status line when a person is watching the terminal, else null (progress then goes to the log). */
export function terminalStatus(): TerminalStatus | null {
  return process.stdout.isTTY && process.stderr.isTTY ? new TerminalStatus(process.stderr) : null;
}

/** One sync, reporting its progress from the moment the run starts until it ends. */
export async function syncWithProgress(deps: JobDeps, terminal: TerminalStatus | null): Promise<RunOutcome> {
  let stop = () => {};
  const watch = (live: LiveRun) => {
    stop = reportProgress(live, deps.log, terminal);
  };
  return syncOnce({ ...deps, watch }).finally(() => stop());
}

/** Starts reporting; the returned function stops it (and clears the status line). */
export function reportProgress(live: LiveRun, log: Logger, terminal: TerminalStatus | null): () => void {
  const started = performance.now();
  const runLog = log.child({ runId: live.runId });
  const tick = () => {
    const s = snapshot(live, performance.now() - started);
    if (terminal) terminal.show(formatSnapshot(s));
    else runLog.info({ progress: s }, 'progress');
  };
  const timer = setInterval(tick, terminal ? REDRAW_MS : LOG_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    terminal?.clear();
  };
}
