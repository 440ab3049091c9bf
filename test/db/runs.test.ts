// What earlier runs spent of the hour, as read back for the rate limiter: only finished runs of the same
// corp within the hour, whatever else sync_runs holds.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { finishRun, recentCalls, removeUnlistedChains } from '../../src/db/runs.ts';
import { emptyStats } from '../../src/sync/stats.ts';
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

describe('finishRun', () => {
  let db: TestDatabase;
  const role = `wcs_runs_writer_${process.pid}`;
  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(`create role ${role} login`);
    await db.pool.query(`grant usage on schema wecom to ${role}`);
    await db.pool.query(`grant select, update on wecom.sync_runs to ${role}`);
  });
  afterAll(async () => {
    await db.pool.query(`drop owned by ${role}`);
    await db.pool.query(`drop role ${role}`);
    await db.drop();
  });

  it("takes the end of a run from the database's clock, as its start, not from a clock that is off", async () => {
    const { rows } = await db.pool.query(
      `insert into wecom.sync_runs (upstream_corpid) values ('ww') returning id`,
    );
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() - 2 * 3_600_000 });
    try {
      await finishRun(postgresDatabase(db.pool).orm, rows[0].id, 'succeeded', emptyStats(), null);
    } finally {
      vi.useRealTimers();
    }
    const ended = await db.pool.query(
      `select extract(epoch from clock_timestamp() - finished_at)::float8 as ago,
              finished_at >= started_at as ordered from wecom.sync_runs where id = $1`,
      [rows[0].id],
    );
    expect(ended.rows[0].ordered).toBe(true);
    expect(ended.rows[0].ago).toBeLessThan(60);
  });

  it('writes the end of a run once the database takes connections again', async () => {
    const { rows } = await db.pool.query(
      `insert into wecom.sync_runs (upstream_corpid) values ('ww') returning id`,
    );
    const url = new URL(db.url);
    url.username = role;
    const pool = createPool(url.toString(), 1);
    try {
      // The database is out of reach as the run ends (a restart, a failover) and back 4 s later: after the
      // retries at 1 and 3 s, before the one at 7 s.
      await db.pool.query(`alter role ${role} connection limit 0`);
      const back = setTimeout(() => void db.pool.query(`alter role ${role} connection limit -1`), 4_000);
      try {
        await finishRun(postgresDatabase(pool).orm, rows[0].id, 'succeeded', emptyStats(), null);
      } finally {
        clearTimeout(back);
      }
      const run = await db.pool.query('select status, finished_at from wecom.sync_runs where id = $1', [
        rows[0].id,
      ]);
      expect(run.rows[0].status).toBe('succeeded');
      expect(run.rows[0].finished_at).not.toBeNull();
    } finally {
      await pool.end();
    }
  });
});

describe('a run another sync took over', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('removes no chain, and keeps the status the taking over gave it, with its own stats', async () => {
    await db.pool.query(
      `insert into wecom.chains (upstream_corpid, chain_id, chain_name) values ('ww', 'c', 'x')`,
    );
    const { rows } = await db.pool.query(
      `insert into wecom.sync_runs (upstream_corpid, status) values ('ww', 'aborted') returning id`,
    );
    const runId = rows[0].id as number;
    await expect(removeUnlistedChains(db.database, 'ww', runId, [])).rejects.toThrow(
      `run ${runId} is aborted, no longer running`,
    );
    const stats = emptyStats();
    stats.pages = 7;
    await finishRun(db.database.orm, runId, 'failed', stats, 'lock lost');
    const chain = await db.pool.query(`select removed_at from wecom.chains where chain_id = 'c'`);
    expect(chain.rows).toEqual([{ removed_at: null }]);
    const run = await db.pool.query(
      `select status, error, (stats ->> 'pages')::int as pages from wecom.sync_runs where id = $1`,
      [runId],
    );
    expect(run.rows).toEqual([{ status: 'aborted', error: null, pages: 7 }]);
  });
});
