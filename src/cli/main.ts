#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=8 --max-old-space-size=512
// Heap sizing (the same flags in the Dockerfile and the npm scripts): the live heap is ~30 MB whatever the
// network's size, but with the default ceiling for a large machine V8 lets the old generation grow up to 4x
// past it between full collections; under a smaller ceiling it allows 1.3-2x, scaled with the ceiling. 512 MB
// (still 15x the live heap) holds peak RSS near 150 MB instead of ~230 MB, for 10-30% more CPU; the smaller
// young generation takes off another 30%. In a memory-limited container Node already sizes the heap from the
// limit. docs/benchmarks.md has the figures. MALLOC_TRIM_THRESHOLD_ keeps glibc from holding freed memory
// (see the Dockerfile, which sets the same).
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
