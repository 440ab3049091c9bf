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
   * The work is over and its outcome decided: a signal from then on changes nothing, while the process only
   * closes its connections and exits with that outcome. The handler stays registered, so that main.ts's does
   * not take such a signal for one that came before any work and exit 9.
   */
  dispose(): void;
}

export function handleShutdown(log: Logger, timeoutMs: number): Shutdown {
  const controller = new AbortController();
  let disposed = false;
  const onSignal = (name: NodeJS.Signals) => {
    if (disposed) return;
    if (controller.signal.aborted) {
      log.warn({ signal: name }, 'second signal: exiting now');
      process.exit(EXIT.aborted);
    }
    log.warn(
      { signal: name, timeoutMs },
      'stopping: no new requests; the chain being written commits or rolls back',
    );
    controller.abort(new ShutdownRequested(name));
    setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown deadline passed: exiting now');
      process.exit(EXIT.aborted);
    }, timeoutMs).unref();
  };
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  return {
    signal: controller.signal,
    dispose() {
      disposed = true;
    },
  };
}
