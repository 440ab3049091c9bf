// What earlier runs spent of the hour, as read back for the rate limiter: only finished runs of the same
// corp within the hour, whatever else sync_runs holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentCalls } from '../../src/db/runs.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('recentCalls', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it("sums nothing but the finished runs of the last hour of this corp, with each run's age", async () => {
    const run = (corp: string, finishedAgo: string | null, stats: object) =>
      db.pool.query(
        `insert into wecom.sync_runs (upstream_corpid, status, started_at, finished_at, stats)
         values ($1, 'succeeded', now() - interval '2 hours',
                 case when $2::interval is null then null else now() - $2::interval end, $3)`,
        [corp, finishedAgo, stats],
      );
    const calls = (c: Record<string, unknown>) => ({ api: { calls: c } });
    await run('wwa', '10 minutes', calls({ get_chain_corpinfo: 900, gettoken: 1 }));
    await run('wwa', '50 minutes', calls({ get_chain_corpinfo: 30 }));
    await run('wwa', '61 minutes', calls({ get_chain_corpinfo: 5_000 }));
    await run('wwa', null, calls({ get_chain_corpinfo: 7_000 }));
    await run('wwb', '5 minutes', calls({ get_chain_corpinfo: 8_000 }));
    // A run marked aborted by the next one recorded no stats; junk is skipped, not a failure.
    await run('wwa', '5 minutes', {});
    await run('wwa', '5 minutes', { api: { calls: [1, 2] } });
    await run('wwa', '5 minutes', calls({ get_chain_list: 'many', get_chain_group: -3 }));

    const found = (await recentCalls(db.pool, 'wwa')).sort((a, b) => a.ageMs - b.ageMs || a.calls - b.calls);
    expect(found).toEqual([
      { endpoint: 'gettoken', calls: 1, ageMs: expect.closeTo(10 * 60_000, -4) },
      { endpoint: 'get_chain_corpinfo', calls: 900, ageMs: expect.closeTo(10 * 60_000, -4) },
      { endpoint: 'get_chain_corpinfo', calls: 30, ageMs: expect.closeTo(50 * 60_000, -4) },
    ]);
  });
});
