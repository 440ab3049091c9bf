// The scheduler's ticks, with node-cron itself under a fake clock: what a paused or busy process does to them.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { scheduleTicks } from '../../src/cli/schedule-command.ts';

describe('scheduleTicks', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-11-29T10:59:58Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function start() {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const ticks: Date[] = [];
    const task = scheduleTicks('0 * * * *', 'UTC', log, () => ticks.push(new Date()));
    return { task, ticks, lines };
  }

  /** The process is held up (a paused VM, a clock step) from before the hour until `resumeAt`. */
  async function holdUpUntil(resumeAt: string) {
    vi.setSystemTime(new Date(resumeAt));
    await vi.advanceTimersToNextTimerAsync();
  }

  it('still syncs a tick held up by less than a minute, late, as one tick', async () => {
    const { task, ticks, lines } = start();
    await holdUpUntil('2026-11-29T11:00:40Z');
    expect(ticks).toHaveLength(1);
    expect(lines.filter((l) => l.level === 40)).toEqual([]);
    await task.destroy();
  });

  it('skips a tick held up by more than a minute, with a warning in JSON', async () => {
    const { task, ticks, lines } = start();
    await holdUpUntil('2026-11-29T11:01:30Z');
    expect(ticks).toHaveLength(0);
    expect(lines).toContainEqual(
      expect.objectContaining({
        level: 40,
        scheduledFor: '2026-11-29T11:00:00.000Z',
        msg: 'tick missed: the process was held up past it by more than a minute',
      }),
    );
    await task.destroy();
  });
});
