import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShutdownRequested } from '../../src/cli/shutdown.ts';
import { drizzleModule } from '../../src/db/drizzle.ts';
import { logLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase, holdingMigrationLock, type TestDatabase } from '../helpers/db.ts';

const { drizzle } = drizzleModule('drizzle-orm/node-postgres');

const TABLES = [
  '__drizzle_migrations',
  'chain_corp_history',
  'chain_corps',
  'chain_group_history',
  'chain_groups',
  'chains',
  'sync_runs',
];

async function tables(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query(
    `select table_name from information_schema.tables where table_schema = 'wecom' and table_type = 'BASE TABLE' order by 1`,
  );
  return rows.map((r) => r.table_name);
}

describe('migrations', () => {
  const dbs: TestDatabase[] = [];
  const fresh = async () => {
    const db = await createTestDatabase({ migrate: false });
    dbs.push(db);
    return db;
  };
  afterAll(() => Promise.all(dbs.map((db) => db.drop())));

  it('wait for no lock, and migrate nothing, when the stop came before they began to wait', async () => {
    const db = await fresh();
    // Another process migrating: without the stop, this one would wait for as long as it holds the lock.
    await holdingMigrationLock(db.pool, async () => {
      const stop = new AbortController();
      stop.abort(new ShutdownRequested('SIGTERM'));
      await expect(db.database.migrate(stop.signal)).rejects.toThrow('stopped by SIGTERM');
      expect(await tables(db)).toEqual([]);
      const { rows } = await db.pool.query(
        `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
      );
      expect(rows[0].n).toBe(0);
    });
  });

  it('create the wecom tables, and concurrent runs serialise and find nothing left to do', async () => {
    const db = await fresh();
    const results = await Promise.all([db.database.migrate(), db.database.migrate(), db.database.migrate()]);
    expect(await tables(db)).toEqual(TABLES);
    const applied = await db.pool.query('select count(*)::int as n from wecom.__drizzle_migrations');
    expect(applied.rows[0].n).toBeGreaterThan(0);
    expect(results.map((r) => r.applied).sort()).toEqual([0, 0, applied.rows[0].n]);
  });

  it("carry on from a database drizzle's migrator migrated, reading its records", async () => {
    const db = await fresh();
    const { migrate }: typeof import('drizzle-orm/node-postgres/migrator') = createRequire(import.meta.url)(
      'drizzle-orm/node-postgres/migrator',
    );
    await migrate(drizzle({ client: db.pool }), {
      migrationsFolder: 'migrations',
      migrationsSchema: 'wecom',
      migrationsTable: '__drizzle_migrations',
    });
    expect(await db.database.migrate()).toEqual({ applied: 0, unknown: 0 });
  });

  describe('with a schema created beforehand for a role that may not create one', () => {
    const role = `wcs_migrate_owner_${process.pid}`;
    let db: TestDatabase;
    beforeAll(async () => {
      db = await fresh();
      await db.pool.query(`create role ${role} login`);
      await db.pool.query(`create schema wecom authorization ${role}`);
    });
    afterAll(async () => {
      await db.pool.query('drop schema wecom cascade');
      await db.pool.query(`drop role ${role}`);
    });

    it('apply, as docs/schema.md offers ("a schema created beforehand and owned by it")', async () => {
      const url = new URL(db.url);
      url.username = role;
      const has = await db.pool.query(
        `select has_database_privilege($1, current_database(), 'CREATE') as ok`,
        [role],
      );
      expect(has.rows[0].ok).toBe(false);
      const result = await runCli(['migrate'], { DATABASE_URL: url.toString() });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(await tables(db)).toEqual(TABLES);
    });
  });

  it('let a role that may only use the schema its owner migrated start, with nothing to apply', async () => {
    const db = await fresh();
    await db.database.migrate();
    const role = `wcs_migrate_user_${process.pid}`;
    await db.pool.query(`create role ${role} login`);
    try {
      await db.pool.query(`grant usage on schema wecom to ${role}`);
      await db.pool.query(`grant select on all tables in schema wecom to ${role}`);
      const url = new URL(db.url);
      url.username = role;
      const result = await runCli(['migrate'], { DATABASE_URL: url.toString() });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    } finally {
      await db.pool.query(`drop owned by ${role}`);
      await db.pool.query(`drop role ${role}`);
    }
  });

  it('leave a database that a newer version migrated further as it is, and say so', async () => {
    const db = await fresh();
    await db.database.migrate();
    // What a later version's migration would leave: a record newer than every migration this one has.
    await db.pool.query(
      `insert into wecom.__drizzle_migrations (hash, created_at)
       select 'later', max(created_at) + 1000 from wecom.__drizzle_migrations`,
    );
    const result = await runCli(['migrate'], { DATABASE_URL: db.url, LOG_LEVEL: 'info' });
    expect(result.code).toBe(0);
    expect(logLines(result.stderr).map((l) => [l.level, l.msg, l.unknown])).toEqual([
      [
        40,
        'the database has migrations this version does not know, from a newer version: using it as it is',
        1,
      ],
      [30, 'the database is up to date', undefined],
    ]);
  });
});
