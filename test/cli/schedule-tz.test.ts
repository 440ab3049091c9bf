// SYNC_CRON in a zone with daylight saving time, as the README states it: a tick whose local time the change
// skips or repeats runs once or not at all. node-cron's timers run on a fake clock through the changes.
import pino from 'pino';
import { afterEach, expect, it, vi } from 'vitest';
import { scheduleTicks } from '../../src/cli/schedule-command.ts';

const HOUR = 3_600_000;

/** The instants `cron` ticks at in `timezone` over `hours` from `from`. */
async function ticks(cron: string, timezone: string, from: string, hours: number): Promise<string[]> {
  vi.useFakeTimers({ now: new Date(from) });
  const at: string[] = [];
  const task = scheduleTicks(cron, timezone, pino({ level: 'silent' }), () =>
    at.push(new Date().toISOString()),
  );
  await vi.advanceTimersByTimeAsync(hours * HOUR);
  await task.stop();
  return at;
}

afterEach(() => vi.useRealTimers());

it('runs an hourly schedule once, not twice, in the hour that falling back repeats', async () => {
  // New York falls back at 02:00 EDT on 2027-11-07: 01:00-02:00 local comes twice (05:00 and 06:00 UTC).
  expect(await ticks('0 * * * *', 'America/New_York', '2027-11-07T04:30:00Z', 4)).toEqual([
    '2027-11-07T05:00:00.000Z',
    '2027-11-07T07:00:00.000Z',
    '2027-11-07T08:00:00.000Z',
  ]);
});

it('skips a daily 02:30 on the day springing forward skips it', async () => {
  // New York springs forward at 02:00 EST on 2027-03-14: there is no 02:30 that day.
  expect(await ticks('30 2 * * *', 'America/New_York', '2027-03-13T12:00:00Z', 72)).toEqual([
    '2027-03-15T06:30:00.000Z',
    '2027-03-16T06:30:00.000Z',
  ]);
});

it('ticks in SYNC_TZ, not in the machine zone', async () => {
  expect(await ticks('0 9 * * *', 'Asia/Shanghai', '2027-01-01T00:30:00Z', 24)).toEqual([
    '2027-01-01T01:00:00.000Z',
  ]);
});
