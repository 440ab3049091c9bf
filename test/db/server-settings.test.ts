// What a role or database may set on the server does not change how the job reads and writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/db/database.ts';
import { DatabaseEncodingError } from '../../src/db/errors.ts';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('server settings', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    const name = new URL(db.url).pathname.slice(1);
    // Each takes effect on connections opened after it, as the pools below are.
    await db.pool.query(`alter database ${name} set datestyle = 'SQL, DMY'`);
    await db.pool.query(`alter database ${name} set statement_timeout = '100ms'`);
    await db.pool.query(`alter database ${name} set default_transaction_isolation = 'serializable'`);
  });
  afterAll(() => db?.drop());

  it("reads timestamps under a DateStyle other than ISO (node-postgres's parser reads only ISO)", async () => {
    const pool = createPool(db.url, 2);
    try {
      const client = await pool.connect();
      try {
        expect((await client.query('show datestyle')).rows[0].DateStyle).toBe('ISO, DMY');
        expect((await client.query('select now() as at')).rows[0].at).toBeInstanceOf(Date);
      } finally {
        client.release();
      }
      expect((await pool.query(`select timestamptz '2026-11-30 12:00Z' as at`)).rows[0].at).toEqual(
        new Date('2026-11-30T12:00:00Z'),
      );
    } finally {
      await pool.end();
    }
  });

  it("runs the job's sessions without the database's statement timeout, and its transactions read committed", async () => {
    const pool = createPool(db.url, 2);
    try {
      // Elsewhere the timeout stands: the setting is in effect.
      await expect(pool.query('select pg_sleep(0.3)')).rejects.toMatchObject({ code: '57014' });
      const session = await postgresDatabase(pool).session();
      try {
        await session.query('select pg_sleep(0.3)');
        const inside = await inTransaction(session, async () => {
          await session.query('select pg_sleep(0.3)');
          return (await session.query('show transaction_isolation')).rows[0].transaction_isolation;
        });
        expect(inside).toBe('read committed');
      } finally {
        session.release();
      }
    } finally {
      await pool.end();
    }
  });

  it('leaves sql the statement timeout the database sets, for the query it is given', async () => {
    const result = await runCli(['sql', 'select pg_sleep(0.3)'], { DATABASE_URL: db.url });
    expect(result).toMatchObject({
      code: 2,
      stderr: 'wecom-chain-sync: query failed: canceling statement due to statement timeout\n',
    });
  });

  it('refuses, before creating anything, a database whose encoding is not UTF8', async () => {
    const latin1 = await createTestDatabase({
      migrate: false,
      with: "encoding 'LATIN1' lc_collate 'C' lc_ctype 'C' template template0",
    });
    try {
      const err = await latin1.database.migrate().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseEncodingError);
      expect((err as Error).message).toBe(
        "the database's encoding is LATIN1, which cannot hold every name WeCom returns: sync into a database created with ENCODING 'UTF8'",
      );
      const { rows } = await latin1.pool.query(
        `select count(*)::int as n from pg_namespace where nspname = 'wecom'`,
      );
      expect(rows[0].n).toBe(0);
    } finally {
      await latin1.drop();
    }
  });
});
