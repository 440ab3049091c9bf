// SIGTERM/SIGINT/SIGHUP: the first asks the work to stop cleanly and starts a deadline; a second, or the
// deadline, ends the process at once. Either way the exit code is EXIT.aborted.
import type { Logger } from '../log.ts';
import { EXIT } from './exit-codes.ts';

/** What stops the process: Kubernetes' SIGTERM, Ctrl-C, and a closing terminal or ssh session. */
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export class ShutdownRequested extends Error {
  override name = 'ShutdownRequested';
  constructor(signal: string) {
    super(`stopped by ${signal}`);
  }
}

export interface Shutdown {
  signal: AbortSignal;
  /**
   * The work is over and its outcome decided: a signal from then on stops nothing, and only bounds the
   * closing of connections by the deadline (a second one exits at once). The handler stays registered, so
   * that main.ts's does not take such a signal for one that came before any work and exit 9.
   */
  dispose(): void;
}

export function handleShutdown(log: Logger, timeoutMs: number): Shutdown {
  const controller = new AbortController();
  let closing = false;
  let deadline: NodeJS.Timeout | undefined;
  const onSignal = (name: NodeJS.Signals) => {
    if (deadline !== undefined) {
      log.warn({ signal: name }, 'second signal: exiting now');
      process.exit(EXIT.aborted);
    }
    if (!closing) {
      log.warn(
        { signal: name, timeoutMs },
        'stopping: no new requests; the chain being written commits or rolls back',
      );
      controller.abort(new ShutdownRequested(name));
    }
    deadline = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown deadline passed: exiting now');
      process.exit(EXIT.aborted);
    }, timeoutMs).unref();
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose() {
      closing = true;
    },
  };
}
