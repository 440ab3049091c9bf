// Preloaded into a measured child (`node --import ./bench/probe.ts …`): when the process exits, writes its
// own resource usage (exact CPU time and peak RSS, which /proc polling can only approximate) and the
// peak of V8's heap figures, sampled every 100 ms, to the file named by BENCH_PROBE_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * This process's own peak RSS in KB. Not getrusage's maxrss: Linux carries the parent's high-water mark into
 * a spawned child, so a child of a large benchmark process reported the benchmark's peak (333 MB for a
 * 1,000-corp run). VmHWM belongs to this process's own address space.
 */
function ownPeakRssKb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // not Linux: fall back to getrusage, which has no such inheritance elsewhere
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  setInterval(sample, 100).unref();
  process.on('exit', () => {
    sample();
    const u = process.resourceUsage();
    const report = {
      userMs: u.userCPUTime / 1000,
      sysMs: u.systemCPUTime / 1000,
      maxRssKb: ownPeakRssKb(),
      peakHeapUsedKb: peak.heapUsed / 1024,
      peakHeapTotalKb: peak.heapTotal / 1024,
      peakExternalKb: peak.external / 1024,
      peakArrayBuffersKb: peak.arrayBuffers / 1024,
    };
    writeFileSync(file, JSON.stringify(report));
  });
}
