#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=8 --max-old-space-size=512
// Heap sizing (the same flags in the Dockerfile and the npm scripts): the live heap is ~25 MB whatever the
// network's size (a group's listing adds 8-16 bytes a corp, outside it), but V8 lets the old generation grow past
// it between full collections by a factor it scales with the ceiling: up to 4x under the default ceiling for a
// large machine, 1.3-2x under a smaller one. 512 MB holds a 1M-corp re-run's peak RSS near 135 MiB instead of
// ~230, for 10-30% more CPU; the smaller young generation takes off another 30%. 4 MB semi-spaces and a 128 MB
// ceiling would take off 9 MiB more, for 13-14% more CPU, but `simulate` holds its whole network (~370 MiB at a
// million corps). `sql` spools a large result to a file (test/cli/sql-memory.test.ts: a 48 MB heap). Explicit
// flags override the sizing Node does from a container's memory limit. docs/benchmarks.md has the figures
// (finding 2). MALLOC_TRIM_THRESHOLD_ keeps glibc from holding freed memory (see the Dockerfile, which sets the
// same).
// The entry point: a stop signal is handled before the rest of the program loads (program.ts).
import { EXIT } from './exit-codes.ts';
import { STOP_SIGNALS } from './shutdown.ts';

/**
 * Node as a container's PID 1 (the image's ENTRYPOINT) gets no default action for SIGTERM: a signal that comes
 * before a handler is registered is lost, and loading the program's modules takes a few hundred milliseconds.
 * So this handler comes first, with nothing but two small modules loaded. A command without a shutdown of its
 * own (migrate, report, sql, grant-readonly), or one not yet started, stops at once; run, schedule, demo and
 * simulate handle the signal themselves once they start.
 */
function stopUnlessHandled(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  process.stderr.write(`wecom-chain-sync: stopped by ${signal}\n`);
  process.exit(EXIT.aborted);
}
for (const name of STOP_SIGNALS) process.on(name, stopUnlessHandled);

await import('./program.ts');
