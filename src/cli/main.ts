#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=4 --max-old-space-size=128
// Heap sizing (the same flags in the Dockerfile and the npm scripts): the live heap is ~25 MB whatever the
// network's size (plus ~20 bytes per corp of each group being listed), but V8 lets the old generation grow past
// it between full collections by a factor it scales with the ceiling: up to 4x under the default ceiling for a
// large machine, 1.3x (its least) under 128 MB, which is still 4x the live heap. With 4 MB semi-spaces that
// holds a 1M-corp re-run's peak RSS near 125 MiB, against ~135 with 8 MB and 512 MB and ~230 with the
// defaults, for ~10% more CPU. Explicit flags override the sizing Node does from a container's memory limit.
// docs/benchmarks.md has the figures (finding 2). MALLOC_TRIM_THRESHOLD_ keeps glibc from holding freed
// memory (see the Dockerfile, which sets the same).
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
