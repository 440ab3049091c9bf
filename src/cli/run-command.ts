import { parseConfig } from '../config.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { runMigrations } from '../db/migrate.ts';
import { createPool } from '../db/pool.ts';
import { createLogger } from '../log.ts';
import { describe, runSync } from '../sync/run.ts';
import { WecomClient } from '../wecom/client.ts';
import { WecomRefusedError } from '../wecom/errors.ts';
import { EXIT, type ExitCode, ExitError } from './exit-codes.ts';

export async function runCommand(): Promise<ExitCode> {
  const config = parseConfig(process.env);
  const log = createLogger();
  // One connection per chain being staged, one for the run record, one spare for ordinary queries.
  const pool = createPool(config.databaseUrl, config.sync.chainConcurrency + 2);
  const client = new WecomClient(config.wecom);
  try {
    await runMigrations(pool);
    const { status, fatal, runId, stats } = await runSync({
      pool,
      api: client,
      upstreamCorpid: config.wecom.corpId,
      sync: config.sync,
      groupConcurrency: config.wecom.concurrency * 2,
      log,
    });
    // These two have exit codes of their own; the run record already says what happened.
    if (fatal instanceof WecomRefusedError || isDatabaseUnavailable(fatal)) throw fatal;
    if (fatal !== undefined)
      throw new ExitError(EXIT.failed, `sync failed (run ${runId}): ${describe(fatal)}`);
    const { completed, failed } = stats.chains;
    const first = stats.failures[0];
    const why = first ? `; first: chain ${first.chain_id}: ${first.error}` : '';
    if (status === 'partial') {
      throw new ExitError(
        EXIT.partial,
        `sync partial (run ${runId}): ${failed} of ${completed + failed} chains not synced${why}`,
      );
    }
    if (status !== 'succeeded')
      throw new ExitError(EXIT.failed, `sync failed (run ${runId}): no chain synced${why}`);
    return EXIT.ok;
  } finally {
    await Promise.allSettled([client.close(), pool.end()]);
  }
}
