// The end of a run: the planner statistics it refreshes, and what a signal at that point means.
import type pg from 'pg';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSync } from '../../src/sync/run.ts';
import { WecomApiError } from '../../src/wecom/errors.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { corpsFor, FakeApi } from '../helpers/fake-api.ts';

describe("a run's end", () => {
  let db: TestDatabase;
  let holder: pg.PoolClient;
  beforeEach(async () => {
    db = await createTestDatabase();
    // Another session's maintenance (a manual VACUUM, a CREATE INDEX CONCURRENTLY) holds the table the
    // run's final ANALYZE needs, for longer than any run should wait.
    holder = await db.pool.connect();
    await holder.query('begin');
    await holder.query('lock table wecom.chain_corps in share update exclusive mode');
  });
  afterEach(async () => {
    await holder.query('rollback');
    holder.release();
    await db.drop();
  });

  const api = () =>
    new FakeApi(
      ['a', 'b'].map((id) => ({
        chain: { chainId: id, chainName: id },
        groups: [{ groupid: 2, groupName: 'g', parentid: 1, order: 1 }],
        corps: new Map([[2, corpsFor(2, 200, id)]]),
      })),
    );
  const sync = (signal?: AbortSignal, fake = api()) =>
    runSync({
      db: db.database,
      api: fake,
      upstreamCorpid: 'wwup',
      sync: { pageSize: 50, chainConcurrency: 2, details: 'none', detailsMaxAgeHours: 24 },
      apiConcurrency: 4,
      log: pino({ level: 'silent' }),
      signal,
    });

  it('does not wait for a table another session holds: its statistics are left to autovacuum', async () => {
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    const { rows } = await db.pool.query(
      `select relname, reltuples::int as n from pg_class
       where relnamespace = 'wecom'::regnamespace and relname in ('chain_corps', 'chain_corp_history')
       order by relname`,
    );
    // The history was analysed; the held table was not.
    expect(rows).toEqual([
      { relname: 'chain_corp_history', n: 400 },
      { relname: 'chain_corps', n: -1 },
    ]);
  });

  /** Waits until the run's final ANALYZE waits for the held table, then sends the signal. */
  async function signalAtTheEnd(stop: AbortController): Promise<void> {
    await vi.waitFor(
      async () => {
        const { rows } = await db.pool.query(
          `select count(*)::int as n from pg_stat_activity
           where datname = current_database() and query = 'analyze wecom.chain_corps'
             and wait_event_type = 'Lock'`,
        );
        expect(rows[0].n).toBe(1);
      },
      { timeout: 20_000, interval: 10 },
    );
    stop.abort(new Error('stopped by SIGTERM'));
  }

  it('ends succeeded when a signal comes once every chain is merged: nothing was left undone', async () => {
    const stop = new AbortController();
    const run = sync(stop.signal);
    await signalAtTheEnd(stop);
    const outcome = await run;
    expect(outcome).toMatchObject({ status: 'succeeded', fatal: undefined });
    expect(outcome.stats.chains).toMatchObject({ listed: 2, completed: 2 });
    const { rows } = await db.pool.query('select status, error from wecom.sync_runs');
    expect(rows).toEqual([{ status: 'succeeded', error: null }]);
  });

  it('ends partial when that signal comes after a chain failed: it stopped nothing either', async () => {
    const fake = api();
    fake.onList = (req) => {
      if (req.chainId === 'b') throw new WecomApiError('get_chain_corpinfo_list', 60011, 'no privilege');
      return undefined;
    };
    const stop = new AbortController();
    const run = sync(stop.signal, fake);
    await signalAtTheEnd(stop);
    const outcome = await run;
    expect(outcome).toMatchObject({ status: 'partial', fatal: undefined });
    expect(outcome.stats.chains).toMatchObject({ listed: 2, completed: 1, failed: 1 });
    const { rows } = await db.pool.query('select status from wecom.sync_runs');
    expect(rows).toEqual([{ status: 'partial' }]);
  });
});
