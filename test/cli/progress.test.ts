import { PassThrough } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatSnapshot, reportProgress, snapshot, TerminalStatus } from '../../src/cli/progress.ts';
import { emptyStats } from '../../src/sync/stats.ts';

function live() {
  const stats = emptyStats();
  const api = {
    calls: { get_chain_corpinfo: 0 },
    retries: { get_chain_corpinfo: 0 },
    errors: {},
    tokenRefreshes: 0,
  };
  return { stats, api, run: { runId: 7, stats, api: () => api } };
}

describe('progress', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('extrapolates the time left from the groups done, assuming unstarted chains like the started ones', () => {
    const { stats, api, run } = live();
    expect(snapshot(run, 1_000).remainingSeconds).toBeNull();
    stats.chains = { listed: 4, started: 2, completed: 1, failed: 0 };
    stats.groups = { listed: 100, done: 50 }; // 50 of an expected 200: a quarter done
    stats.pages = 70;
    stats.corps_listed = 6_500;
    api.calls.get_chain_corpinfo = 3_000;
    api.retries.get_chain_corpinfo = 4;
    const s = snapshot(run, 30_000);
    expect(s).toEqual({
      chains: '1/4',
      groups: '50/100',
      pages: 70,
      corps: 6_500,
      callsPerSecond: 100,
      retries: 4,
      elapsedSeconds: 30,
      remainingSeconds: 90,
    });
    expect(formatSnapshot(s)).toBe(
      'chains 1/4  groups 50/100  pages 70  corps 6500  100 calls/s  retries 4  elapsed 30s  left ~90s',
    );
  });

  it('clears the status line before each log line and draws it again after', () => {
    const out = new PassThrough() as unknown as NodeJS.WriteStream;
    let written = '';
    (out as unknown as PassThrough).on('data', (d) => {
      written += d;
    });
    const status = new TerminalStatus(out);
    status.show('chains 1/2');
    status.logStream.write('a log line\n');
    expect(written).toBe('\r\x1b[Kchains 1/2\r\x1b[Ka log line\nchains 1/2');
  });

  it('without a terminal, logs a progress line with the run id every 5 seconds until stopped', () => {
    vi.useFakeTimers();
    const lines: { msg: string; runId: number; progress: { pages: number } }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const { stats, run } = live();
    const stop = reportProgress(run, log, null);
    vi.advanceTimersByTime(4_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    stats.pages = 12;
    vi.advanceTimersByTime(5_000);
    expect(lines.map((l) => [l.msg, l.runId, l.progress.pages])).toEqual([
      ['progress', 7, 0],
      ['progress', 7, 12],
    ]);
    stop();
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(2);
  });
});
