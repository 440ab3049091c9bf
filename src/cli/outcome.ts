// How a finished sync reads to the person or scheduler that started it.
import { isDatabaseUnavailable } from '../db/errors.ts';
import { describe, type RunOutcome } from '../sync/run.ts';
import { WecomRefusedError } from '../wecom/errors.ts';
import { EXIT, ExitError } from './exit-codes.ts';

/** Returns normally for success; throws what main turns into the exit code and its one line otherwise. */
export function checkOutcome({ status, fatal, runId, stats }: RunOutcome): void {
  const { completed, failed, listed } = stats.chains;
  if (status === 'aborted') {
    throw new ExitError(
      EXIT.aborted,
      `sync aborted (run ${runId}): ${describe(fatal)}; ${completed} of ${listed} chains synced`,
    );
  }
  // These have exit codes of their own; the run record already says what happened.
  if (fatal instanceof WecomRefusedError || isDatabaseUnavailable(fatal)) throw fatal;
  if (fatal !== undefined) throw new ExitError(EXIT.failed, `sync failed (run ${runId}): ${describe(fatal)}`);
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
}
