// Taking over the sync lock from a holder whose process is gone (a vanished node leaves its backend, and
// the lock, alive until TCP keepalive gives up), and never from one that is alive.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isDatabaseUnavailable } from '../../src/db/errors.ts';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { LockHeldError, RunLock } from '../../src/db/run-lock.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startTransactionPooler } from '../helpers/transaction-pooler.ts';

const CORP = 'wwlocked';

describe('RunLock', () => {
  let db: TestDatabase;
  let holder: pg.Client | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await holder?.end().catch(() => {});
    holder = undefined;
  });
  afterAll(() => db?.drop());

  /** Another process's lock connection, as RunLock takes it; its backend pid. */
  async function holdLock(): Promise<number> {
    holder = new pg.Client({ connectionString: db.url });
    holder.on('error', () => {});
    await holder.connect();
    await holder.query('select pg_advisory_lock(7413020, hashtext($1))', [CORP]);
    return (await holder.query('select pg_backend_pid() as pid')).rows[0].pid;
  }
  const idleSeconds = async (pid: number): Promise<number | null> =>
    (
      await db.pool.query(
        `select extract(epoch from now() - state_change)::float8 as s from pg_stat_activity
         where pid = $1 and state = 'idle'`,
        [pid],
      )
    ).rows[0]?.s ?? null;

  it('ends the server process left holding the lock when its release reaches another (a pooler)', async () => {
    // A pooler that keeps the session on one server process until the lock is taken, then passes its later
    // statements to others: the unlock finds no lock to release, and the taker would keep it.
    const pooler = await startTransactionPooler(db.url, {
      pinUntil: /pg_try_advisory_lock/,
      roundRobin: true,
      warm: 2,
    });
    const pool = createPool(pooler.url, 4);
    const held = `select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = hashtext($1)::oid`;
    try {
      const lock = await RunLock.acquire(postgresDatabase(pool), CORP);
      expect((await db.pool.query(held, [CORP])).rows[0].n).toBe(1);
      await lock.release();
      await vi.waitFor(async () => expect((await db.pool.query(held, [CORP])).rows[0].n).toBe(0), {
        timeout: 10_000,
        interval: 20,
      });
    } finally {
      await pool.end();
      await pooler.close();
    }
  });

  it('takes the lock over from a holder whose connection has been idle too long, terminating it', async () => {
    const pid = await holdLock();
    await vi.waitFor(async () => expect(await idleSeconds(pid)).toBeGreaterThan(0.3), { interval: 20 });
    const lock = await RunLock.acquire(db.database, CORP, { deadAfterMs: 300 });
    try {
      expect(lock.tookOverFrom).toEqual({ pid, idleSeconds: expect.any(Number) });
      const alive = await db.pool.query('select count(*)::int as n from pg_stat_activity where pid = $1', [
        pid,
      ]);
      expect(alive.rows[0].n).toBe(0);
    } finally {
      await lock.release();
    }
  });

  it('never from a holder idle for less than that, or busy with a query however long', async () => {
    const pid = await holdLock();
    await expect(RunLock.acquire(db.database, CORP, { deadAfterMs: 60_000 })).rejects.toBeInstanceOf(
      LockHeldError,
    );
    // Busy: its query (a heartbeat that the server is slow to answer, say) keeps it from being idle.
    const busy = holder!.query('select pg_sleep(30)').catch(() => {});
    await vi.waitFor(
      async () => {
        const { rows } = await db.pool.query('select state from pg_stat_activity where pid = $1', [pid]);
        expect(rows[0].state).toBe('active');
      },
      { interval: 20 },
    );
    await expect(RunLock.acquire(db.database, CORP, { deadAfterMs: 0 })).rejects.toBeInstanceOf(
      LockHeldError,
    );
    await db.pool.query('select pg_cancel_backend($1)', [pid]);
    await busy;
    const still = await db.pool.query('select count(*)::int as n from pg_stat_activity where pid = $1', [
      pid,
    ]);
    expect(still.rows[0].n).toBe(1);
  });

  it('counts the lock lost when the database leaves its heartbeat unanswered for three beats, and lets go', async () => {
    const lock = await RunLock.acquire(db.database, CORP, { heartbeatMs: 50 });
    const { rows } = await db.pool.query(
      `insert into wecom.sync_runs (upstream_corpid, status) values ($1, 'running') returning id`,
      [CORP],
    );
    // A server that never answers: the heartbeat's update waits for a row lock the test holds.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('select 1 from wecom.sync_runs where id = $1 for update', [rows[0].id]);
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      try {
        lock.startHeartbeat(rows[0].id);
        vi.advanceTimersByTime(50); // the beat is sent, and never answered
        for (let beat = 1; beat < 3; beat++) {
          vi.advanceTimersByTime(50);
          expect(lock.lost.aborted, `after ${beat} unanswered beat(s)`).toBe(false);
        }
        vi.advanceTimersByTime(50);
      } finally {
        vi.useRealTimers();
      }
      expect(lock.lost.aborted).toBe(true);
      expect(String(lock.lost.reason)).toBe('Error: sync lock heartbeat failed: no answer for 0.15 s');
      expect(isDatabaseUnavailable(lock.lost.reason)).toBe(true);
      // Not waiting for the beat the database will never answer: the connection is closed instead.
      await lock.release();
    } finally {
      await blocker.query('rollback');
      blocker.release();
    }
    // The server notices once the beat's statement ends, and the lock is free again.
    await vi.waitFor(
      async () => {
        const again = await RunLock.acquire(db.database, CORP);
        await again.release();
      },
      { timeout: 5_000, interval: 20 },
    );
  });
});
