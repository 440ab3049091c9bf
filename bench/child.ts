// Runs a measured program (the sync CLI or the baseline) as a child process of its own, so nothing of the
// benchmark or the simulator is counted, and watches it from outside: /proc for CPU and peak RSS, the
// machine's CPU, and the TCP connections it holds to the simulator.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyShare, machineCpu, sampleProcess, socketsTo } from './measure.ts';

const PROBE = new URL('./probe.ts', import.meta.url).pathname;
// /proc/<pid> is cheap to read (~25 µs); /proc/net/tcp is not (~10 ms), and connections live long.
const POLL_MS = 50;
const SOCKETS_POLL_MS = 500;
const ESTABLISHED = '01';

export interface ChildOptions {
  /** Node flags, then the script and its arguments. */
  nodeArgs: string[];
  env: Record<string, string>;
  cwd: string;
  /** The simulator's port: connections to it are counted. */
  simPort: number;
}

export interface ChildResult {
  exitCode: number | null;
  wallMs: number;
  userMs: number;
  sysMs: number;
  /** Peak resident set size: the larger of the last VmHWM polled and the probe's own VmHWM at exit. */
  peakRssKb: number;
  /** Most resident memory seen in the second half of the run: the working set, without start-up peaks. */
  lateRssKb: number;
  /** Peaks of V8's own figures, from the probe (0 when it did not report). */
  peakHeapUsedKb: number;
  peakExternalKb: number;
  /** The bench process's CPU time meanwhile: the simulator, mostly. */
  benchCpuMs: number;
  /** Share of all cores busy during the run (child, simulator, PostgreSQL and anything else). */
  machineBusy: number;
  /** Most connections to the simulator open (established) at once, and how many were opened in all. */
  connectionsPeak: number;
  connectionsOpened: number;
  /** The ends of stdout and stderr (stderr for a failed run's report). */
  stdoutTail: string;
  stderrTail: string;
}

export async function runChild(options: ChildOptions): Promise<ChildResult> {
  const dir = mkdtempSync(join(tmpdir(), 'wcs-bench-'));
  const probeFile = join(dir, 'probe.json');
  // Sockets left in TIME_WAIT by an earlier child are not this one's.
  const earlier = new Set((await socketsTo(options.simPort)).keys());
  const cpuBefore = machineCpu();
  const benchBefore = process.cpuUsage();
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', PROBE, ...options.nodeArgs], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...options.env, BENCH_PROBE_FILE: probeFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-8_000);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8_000);
  });

  const polled = { hwmKb: 0, userMs: 0, sysMs: 0 };
  const rssSeries: [ms: number, kb: number][] = [];
  const seenPorts = new Set<number>();
  let connectionsPeak = 0;
  const poll = (): void => {
    const s = child.pid === undefined ? null : sampleProcess(child.pid);
    if (s) {
      polled.hwmKb = Math.max(polled.hwmKb, s.hwmKb);
      rssSeries.push([performance.now() - started, s.rssKb]);
      polled.userMs = s.userMs;
      polled.sysMs = s.sysMs;
    }
  };
  let socketsBusy = false;
  const pollSockets = async (): Promise<void> => {
    if (socketsBusy) return;
    socketsBusy = true;
    let established = 0;
    // The bench's own side of those connections has the simulator's port as its local port, so only
    // the child's sockets have it as their remote port.
    for (const [localPort, state] of await socketsTo(options.simPort)) {
      if (earlier.has(localPort)) continue;
      seenPorts.add(localPort);
      if (state === ESTABLISHED) established++;
    }
    connectionsPeak = Math.max(connectionsPeak, established);
    socketsBusy = false;
  };
  const timer = setInterval(poll, POLL_MS);
  const socketTimer = setInterval(pollSockets, SOCKETS_POLL_MS);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
  clearInterval(timer);
  clearInterval(socketTimer);
  const wallMs = performance.now() - started;
  const bench = process.cpuUsage(benchBefore);
  const machineBusy = busyShare(cpuBefore, machineCpu());
  const lateRssKb = rssSeries.reduce((max, [t, kb]) => (t >= wallMs / 2 ? Math.max(max, kb) : max), 0);

  let probe: Record<string, number> = {};
  try {
    probe = JSON.parse(readFileSync(probeFile, 'utf8'));
  } catch {
    // A child killed by a signal writes nothing: fall back to what polling saw.
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    exitCode,
    wallMs,
    userMs: probe.userMs ?? polled.userMs,
    sysMs: probe.sysMs ?? polled.sysMs,
    peakRssKb: Math.max(polled.hwmKb, probe.maxRssKb ?? 0),
    lateRssKb,
    peakHeapUsedKb: probe.peakHeapUsedKb ?? 0,
    peakExternalKb: probe.peakExternalKb ?? 0,
    benchCpuMs: (bench.user + bench.system) / 1000,
    machineBusy,
    connectionsPeak,
    connectionsOpened: seenPorts.size,
    stdoutTail: stdout,
    stderrTail: stderr,
  };
}
