// Which failures read as "the database is not there" (exit 5), through the layers that wrap them.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { drizzleModule } from '../../src/db/drizzle.ts';
import {
  ConnectionSettingsError,
  connectFailure,
  isDatabaseUnavailable,
  unavailableReason,
} from '../../src/db/errors.ts';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startRefusingPooler } from '../helpers/refusing-pooler.ts';

const { sql } = drizzleModule('drizzle-orm');

/** Both ways of reaching the server, a client of one's own and pool.query, give the settings error. */
async function expectSettingsRefused(pool: pg.Pool, message: string): Promise<void> {
  for (const attempt of [() => pool.connect(), () => pool.query('select 1')]) {
    const err = await attempt().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectionSettingsError);
    expect((err as Error).message).toBe(message);
    expect(isDatabaseUnavailable(err)).toBe(false);
  }
}

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

describe('a connection whose startup settings the server refuses', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const withOptions = (options: string) => {
    const url = new URL(db.url);
    url.searchParams.set('options', options);
    return createPool(url.toString(), 1);
  };

  it.each([
    [
      'an unknown parameter',
      '-c wcs_no_such_setting=1',
      'unrecognized configuration parameter "wcs_no_such_setting"',
    ],
    ['a value it does not take', '-c work_mem=lots', 'invalid value for parameter "work_mem": "lots"'],
  ])(
    'is a ConnectionSettingsError for %s, from connect and from query alike',
    async (_, options, message) => {
      const pool = withOptions(options);
      try {
        await expectSettingsRefused(pool, message);
      } finally {
        await pool.end();
      }
    },
  );

  it('leaves a failed query, and a login refused, as they were', async () => {
    const pool = withOptions('-c statement_timeout=5s');
    try {
      const failed = await pool.query('select 1/0').catch((e: unknown) => e);
      expect(failed).not.toBeInstanceOf(ConnectionSettingsError);
      expect((failed as { code?: string }).code).toBe('22012');
      expect((await pool.query('show statement_timeout')).rows).toEqual([{ statement_timeout: '5s' }]);
    } finally {
      await pool.end();
    }
    const url = new URL(db.url);
    url.pathname = '/wcs_no_such_database';
    const missing = createPool(url.toString(), 1);
    try {
      const refused = await missing.connect().catch((e: unknown) => e);
      expect(refused).not.toBeInstanceOf(ConnectionSettingsError);
      expect(isDatabaseUnavailable(refused)).toBe(true);
    } finally {
      await missing.end();
    }
  });
});

describe('connectFailure', () => {
  const refusal = (code: string, message: string) => Object.assign(new Error(message), { code });

  it('is a settings error only for what a refused setting says', () => {
    for (const [code, message] of [
      ['42704', 'unrecognized configuration parameter "x"'],
      ['22023', 'invalid value for parameter "work_mem": "bad"'],
      ['55P02', 'parameter "shared_buffers" cannot be changed without restarting the server'],
      ['42501', 'permission denied to set parameter "log_statement"'],
      ['08P01', 'unsupported startup parameter: options'],
      ['08P01', 'unsupported startup parameter in options: work_mem'],
      ['08P01', "unsupported options startup parameter: only '-c config=val' is allowed"],
    ] as const) {
      expect(connectFailure(refusal(code, message)), code).toBeInstanceOf(ConnectionSettingsError);
    }
    // A login refused, or trouble on the server, is not the settings' fault (and some of it passes if retried).
    for (const [code, message] of [
      ['42501', 'permission denied for database "bi"'],
      ['55000', 'database "bi" is not currently accepting connections'],
      ['53200', 'out of memory'],
      ['XX000', 'internal error'],
      ['EPIPE', 'write EPIPE'],
      ['08P01', 'invalid frontend message type 0'],
      ['08006', 'unsupported startup parameter: options'],
    ] as const) {
      expect(connectFailure(refusal(code, message)), code).not.toBeInstanceOf(ConnectionSettingsError);
    }
  });

  it('reads a pooler refusing `options` as a settings error, not as the database being unreachable', async () => {
    // PgBouncer says 08P01 (a connection-class code, which otherwise means "unreachable": exit 5, retried).
    const pooler = await startRefusingPooler('08P01', 'unsupported startup parameter: options');
    const pool = createPool(`${pooler.url}?options=-c%20work_mem%3D64MB`, 1);
    try {
      await expectSettingsRefused(pool, 'unsupported startup parameter: options');
    } finally {
      await pool.end();
      await pooler.close();
    }
  });
});
