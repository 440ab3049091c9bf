// `schedule`: a long-running process that syncs on a cron expression and serves metrics and probes.
import {
  type Logger as CronLogger,
  createTask,
  schedule as cronSchedule,
  type ScheduledTask,
  validate as validateCron,
} from 'node-cron';
import { type Config, parseConfig, parseScheduleConfig } from '../config.ts';
import type { Database, Queryable } from '../db/database.ts';
import { LockHeldError } from '../db/run-lock.ts';
import { lastRun, lastSuccessAt } from '../db/runs.ts';
import { createLogger, type Logger } from '../log.ts';
import { startMetricsServer } from '../metrics/server.ts';
import { SyncMetrics } from '../metrics/sync-metrics.ts';
import { poolSizeFor, syncOnce } from '../sync/job.ts';
import { describe } from '../sync/run.ts';
import { migrate, openConfigured } from './database.ts';
import { warnUnknownVariables } from './environment.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { handleShutdown, ShutdownRequested } from './shutdown.ts';

async function databaseAnswers(db: Queryable): Promise<boolean> {
  const timeout = new Promise<boolean>((resolve) => setTimeout(resolve, 2_000, false).unref());
  return Promise.race([db.query('select 1').then(() => true), timeout]);
}

export async function scheduleCommand(values: Record<string, unknown>): Promise<ExitCode> {
  const config = parseConfig(process.env);
  const { cron, timezone } = parseScheduleConfig(process.env, cronProblem);
  const log = createLogger();
  warnUnknownVariables(log, process.env);
  const shutdown = handleShutdown(log, config.shutdownTimeoutMs);
  const db = await openConfigured(config.database, log, poolSizeFor(config));
  const metrics = new SyncMetrics({ processMetrics: true });
  const server = await startMetricsServer(config.metrics.port, metrics.registry, () =>
    databaseAnswers(db),
  ).catch(async (err) => {
    // The embedded database would otherwise keep its pid files (taken over later, but left behind).
    await db.close();
    throw err;
  });
  let aborted = false;
  try {
    try {
      await migrate(db, log, shutdown.signal);
      // Read before a restarted scheduler's first sync ends, or staleness alerts would fire on every deploy.
      metrics.lastSuccess(await lastSuccessAt(db, config.wecom.corpId));
      metrics.lastRun(await lastRun(db, config.wecom.corpId));
    } catch (err) {
      if (!(err instanceof ShutdownRequested)) throw err;
    }
    // A signal that came while starting up has already fired: waiting for it would never end, and the
    // scheduler would sync until the deadline killed it. Checked after the last await of the start-up.
    if (shutdown.signal.aborted) {
      log.info('scheduler stopped before it started');
      return EXIT.ok;
    }
    const syncs = new Syncs(config, db, log, metrics, shutdown.signal);
    const task = scheduleTicks(cron, timezone, log, () => syncs.tick('schedule'));
    log.info({ cron, timezone, metricsPort: server.port, next: task.getNextRun() }, 'scheduler started');
    if (values.now) void syncs.tick('start');
    await new Promise((resolve) => shutdown.signal.addEventListener('abort', resolve, { once: true }));
    await task.stop();
    aborted = await syncs.settled();
    log.info('scheduler stopped');
  } finally {
    shutdown.dispose();
    await Promise.allSettled([server.close(), db.close()]);
  }
  return aborted ? EXIT.aborted : EXIT.ok;
}

/**
 * Why node-cron cannot run `expr`, or null. Its validate() checks the syntax only: "0 0 30W 2 *" passes,
 * and schedule() then throws for want of a date that matches, after the migrations.
 */
function cronProblem(expr: string, timezone: string): string | null {
  if (!validateCron(expr)) return 'is not a valid cron expression';
  try {
    const task = createTask(expr, () => {}, { timezone });
    try {
      task.getNextRuns(1);
    } finally {
      void task.destroy();
    }
    return null;
  } catch {
    return 'matches no date that node-cron can find';
  }
}

/** Calls `tick` on the cron expression's times, in `timezone`. */
export function scheduleTicks(cron: string, timezone: string, log: Logger, tick: () => void): ScheduledTask {
  const task = cronSchedule(cron, tick, {
    timezone,
    name: 'wecom-chain-sync',
    // node-cron drops a tick more than a second late (a paused VM, a clock step, a busy second): an hourly
    // schedule would then lose an hour's sync. Up to a minute late it still runs, never a whole interval.
    missedExecutionTolerance: 60_000,
    logger: cronLogger(log),
  });
  task.on('execution:missed', ({ date }) =>
    log.warn({ scheduledFor: date }, 'tick missed: the process was held up past it by more than a minute'),
  );
  return task;
}

/** node-cron's own messages, as JSON lines like every other. */
function cronLogger(log: Logger): CronLogger {
  const cronLog = log.child({ component: 'node-cron' });
  return {
    info: (message) => cronLog.info(message),
    warn: (message) => cronLog.warn(message),
    error: (message, err) => cronLog.error({ err: err ?? message }, String(message)),
    debug: (message, err) => cronLog.debug({ err }, String(message)),
  };
}

/** Runs syncs one at a time: a tick that comes while one is running is skipped, never queued. */
class Syncs {
  #current: Promise<boolean> | null = null;
  readonly #run: () => Promise<boolean>;
  readonly #log: Logger;

  constructor(config: Config, db: Database, log: Logger, metrics: SyncMetrics, signal: AbortSignal) {
    this.#log = log;
    this.#run = async () => {
      const started = performance.now();
      metrics.running.set(1);
      try {
        const outcome = await syncOnce({ config, db, log, signal });
        metrics.observe(
          outcome,
          (performance.now() - started) / 1000,
          await lastSuccessAt(db, config.wecom.corpId),
        );
        return outcome.status === 'aborted';
      } catch (err) {
        if (err instanceof LockHeldError)
          log.warn({ holderRunId: err.holderRunId }, `sync skipped: ${err.message}`);
        else log.error({ err: describe(err) }, 'sync could not run');
        return false;
      } finally {
        metrics.running.set(0);
      }
    };
  }

  tick(reason: 'schedule' | 'start'): Promise<boolean> | undefined {
    if (this.#current) {
      this.#log.warn({ reason }, 'tick skipped: the previous sync is still running');
      return undefined;
    }
    const current = this.#run().finally(() => {
      this.#current = null;
    });
    this.#current = current;
    return current;
  }

  /** Waits for the sync in progress, if any; true when it ended aborted. */
  async settled(): Promise<boolean> {
    return (await this.#current) ?? false;
  }
}
