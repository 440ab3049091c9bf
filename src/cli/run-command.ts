import { parseConfig } from '../config.ts';
import { lastSuccessAt } from '../db/runs.ts';
import { createLogger } from '../log.ts';
import { poolSizeFor } from '../sync/job.ts';
import { describe } from '../sync/run.ts';
import { migrate, openConfigured, refusal } from './database.ts';
import { warnUnknownVariables } from './environment.ts';
import { EXIT, type ExitCode } from './exit-codes.ts';
import { checkOutcome } from './outcome.ts';
import { syncWithProgress, terminalStatus } from './progress.ts';
import { handleShutdown } from './shutdown.ts';

export async function runCommand(): Promise<ExitCode> {
  const config = parseConfig(process.env);
  const terminal = terminalStatus();
  const log = createLogger({ terminal: terminal?.logStream });
  warnUnknownVariables(log, process.env);
  const shutdown = handleShutdown(log, config.shutdownTimeoutMs);
  const db = await openConfigured(config.database, log, poolSizeFor(config));
  try {
    await migrate(db, log, shutdown.signal);
    const started = performance.now();
    // Migrated, a database can still refuse the sync's writes: a standby, a role that may only read.
    const outcome = await syncWithProgress({ config, db, log, signal: shutdown.signal }, terminal).catch(
      (err: unknown) => {
        throw refusal(db, "the sync's writes", err);
      },
    );
    const { pushgatewayUrl } = config.metrics;
    if (pushgatewayUrl) {
      // Loaded only to push: prom-client costs every run ~60 ms of start-up and its share of memory.
      const [{ SyncMetrics }, { pushMetrics }] = await Promise.all([
        import('../metrics/sync-metrics.ts'),
        import('../metrics/push.ts'),
      ]);
      const metrics = new SyncMetrics({ processMetrics: false });
      try {
        metrics.observe(
          outcome,
          (performance.now() - started) / 1000,
          await lastSuccessAt(db, config.wecom.corpId),
        );
        await pushMetrics(pushgatewayUrl, metrics.registry, config.wecom.corpId);
      } catch (err) {
        // The sync's outcome stands; a missing push shows up as stale metrics, not a failed job.
        log.warn({ runId: outcome.runId, err: describe(err) }, 'could not push metrics to the Pushgateway');
      }
    }
    checkOutcome(outcome);
    return EXIT.ok;
  } finally {
    shutdown.dispose();
    await db.close();
  }
}
