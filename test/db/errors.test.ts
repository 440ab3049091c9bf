// Which failures read as "the database is not there" (exit 5), through the layers that wrap them.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { drizzleModule } from '../../src/db/drizzle.ts';
import { isDatabaseUnavailable, unavailableReason } from '../../src/db/errors.ts';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const { sql } = drizzleModule('drizzle-orm');

describe('isDatabaseUnavailable', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db?.drop());

  it("sees a connection lost under drizzle, which wraps the driver's error in its own", async () => {
    const pool = createPool(db.url, 1);
    try {
      const pending = postgresDatabase(pool)
        .orm.execute(sql`select pg_sleep(60) as wcs_errors_test`)
        .catch((err: unknown) => err);
      const { rows } = await vi.waitFor(
        async () => {
          const found = await db.pool.query(
            `select pid from pg_stat_activity where query like '%as wcs_errors_test' and pid <> pg_backend_pid()`,
          );
          expect(found.rows).toHaveLength(1);
          return found;
        },
        { timeout: 10_000, interval: 20 },
      );
      await db.pool.query('select pg_terminate_backend($1)', [rows[0].pid]);
      const err = (await pending) as Error;
      expect(err.message).toMatch(/^Failed query: select pg_sleep/);
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect(unavailableReason(err)).toBe('terminating connection due to administrator command');
    } finally {
      await pool.end();
    }
  });

  it('sees a query on a client whose connection already failed ("not queryable")', async () => {
    const client = new pg.Client({ connectionString: db.url });
    const failed = new Promise((resolve) => client.on('error', resolve));
    await client.connect();
    const { rows } = await client.query('select pg_backend_pid() as pid');
    await db.pool.query('select pg_terminate_backend($1)', [rows[0].pid]);
    await failed;
    const err = (await client.query('select 1').catch((e: unknown) => e)) as Error;
    expect(err.message).toContain('not queryable');
    expect(isDatabaseUnavailable(err)).toBe(true);
    await client.end().catch(() => {});
  });

  it('a client the pool just handed out, ended by the server before anything listens, does not end the process', async () => {
    // Between pool.connect() and the caller's own 'error' listener, the pool listens no more: a termination
    // arriving then was an unhandled 'error' event, exit 1, with the run left 'running'.
    const pool = createPool(db.url, 1);
    try {
      const client = await pool.connect();
      const { rows } = await client.query('select pg_backend_pid() as pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      await db.pool.query('select pg_terminate_backend($1)', [rows[0].pid]);
      await ended;
      const err = (await client.query('select 1').catch((e: unknown) => e)) as Error;
      expect(isDatabaseUnavailable(err)).toBe(true);
      client.release(true);
    } finally {
      await pool.end();
    }
  });

  it('is false for a statement the database refused', async () => {
    const err = await db.pool.query('select 1/0').catch((e: unknown) => e as Error);
    expect(isDatabaseUnavailable(err)).toBe(false);
    expect(isDatabaseUnavailable(new Error('Failed query', { cause: err }))).toBe(false);
  });
});
