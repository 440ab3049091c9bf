import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrate as commandMigrate } from '../../src/cli/database.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { ShutdownRequested } from '../../src/cli/shutdown.ts';
import { MIGRATIONS_FOLDER } from '../../src/db/database.ts';
import { drizzleModule } from '../../src/db/drizzle.ts';
import { isDatabaseUnavailable, TransactionPoolingError } from '../../src/db/errors.ts';
import { MigrationDataError, MigrationLockError } from '../../src/db/migrations.ts';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { logLines, runCli } from '../helpers/cli.ts';
import { createTestDatabase, holdingMigrationLock, type TestDatabase } from '../helpers/db.ts';
import { type PoolerOptions, startTransactionPooler } from '../helpers/transaction-pooler.ts';

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

async function applied(db: TestDatabase): Promise<number[]> {
  const { rows } = await db.pool.query('select created_at from wecom.__drizzle_migrations order by 1');
  return rows.map((r) => Number(r.created_at));
}

// What 0010 replaced, put back so that it can apply again; 0008 and 0009 only replace views.
const BEFORE_0010 = `
alter table wecom.chain_corp_history drop constraint chain_corp_history_version_key;
create unique index chain_corp_history_open_idx on wecom.chain_corp_history (upstream_corpid, chain_id, corp_key)
  where valid_to is null;
create index chain_corp_history_corp_idx on wecom.chain_corp_history (upstream_corpid, chain_id, corp_key, valid_from)`;

/** `tag` and every later migration pending again, with the database as the one before `tag` left it. */
async function pendingFrom(
  db: TestDatabase,
  tag: '0008_group_tree_top_down' | '0010_merge_corp_history_indexes',
): Promise<number> {
  const journal = JSON.parse(
    readFileSync(join(fileURLToPath(MIGRATIONS_FOLDER), 'meta', '_journal.json'), 'utf8'),
  );
  const { when } = journal.entries.find((e: { tag: string }) => e.tag === tag);
  await db.pool.query(BEFORE_0010);
  const { rows } = await db.pool.query(
    'delete from wecom.__drizzle_migrations where created_at >= $1 returning created_at',
    [when],
  );
  return rows.length;
}

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
        `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
         where l.locktype = 'advisory' and not l.granted and a.datname = current_database()`,
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

  describe('through a pooler in transaction mode', () => {
    const ownLocks = `select count(*)::int as n from pg_locks
      where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())`;
    /** Migrates `db` through a pooler with `options`; what that gave, once the pooler is closed. */
    async function migrateThrough(db: TestDatabase, options: PoolerOptions): Promise<unknown> {
      const pooler = await startTransactionPooler(db.url, options);
      const pool = createPool(pooler.url, 4);
      try {
        // The pooler serves transactions as a real one does: a refusal is the migrations' own.
        const client = await pool.connect();
        await client.query('begin');
        const inside = await client.query('select pg_backend_pid() as a, pg_backend_pid() as b');
        expect(inside.rows[0].a).toBe(inside.rows[0].b);
        await client.query('commit');
        client.release();
        return await postgresDatabase(pool)
          .migrate()
          .catch((err: unknown) => err);
      } finally {
        await pool.end();
        await pooler.close();
      }
    }

    it.each([
      ['that hands out the connection freed last (PgBouncer)', {}],
      ['that hands out the connection freed first (server_round_robin)', { roundRobin: true, warm: 2 }],
      [
        'behind a connection limit that leaves the check the session alone',
        { roundRobin: true, warm: 2, maxClients: 1, limitCode: '53300' },
      ],
    ])('refuse one %s before taking their lock, which would stay behind', async (_, options) => {
      const db = await fresh();
      expect(await migrateThrough(db, options)).toBeInstanceOf(TransactionPoolingError);
      expect(await tables(db)).toEqual([]);
      expect((await db.pool.query(ownLocks)).rows[0].n).toBe(0);
      await db.database.migrate();
      expect(await tables(db)).toEqual(TABLES);
    });

    it("refuse to go on unchecked when the pooler turns the check's other connection away", async () => {
      // PgBouncer at max_client_conn: one quiet client alone would look like a direct connection.
      const db = await fresh();
      const err = await migrateThrough(db, { maxClients: 1 });
      expect(isDatabaseUnavailable(err)).toBe(true);
      expect((err as Error).message).toBe('no more connections allowed (max_client_conn)');
      expect(await tables(db)).toEqual([]);
    });

    it('end, through the CLI too, the server process left holding their lock', async () => {
      // migrate's pool has one connection, which the migrations hold: the holder is ended from it.
      const db = await fresh();
      const pooler = await startTransactionPooler(db.url, {
        pinUntil: /pg_advisory_lock\(/,
        roundRobin: true,
        warm: 2,
      });
      try {
        const result = await runCli(['migrate'], { DATABASE_URL: pooler.url });
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(
          /\(server process \d+, which the pooler left holding the migrations' lock, was ended; each migration that ran was applied whole, in a transaction of its own\)\n$/,
        );
        await vi.waitFor(async () => expect((await db.pool.query(ownLocks)).rows[0].n).toBe(0), {
          timeout: 10_000,
          interval: 20,
        });
      } finally {
        await pooler.close();
      }
    });

    it('do the check without a second connection where the role may open only one (migrate)', async () => {
      const db = await fresh();
      const role = `wcs_one_connection_${process.pid}`;
      await db.pool.query(`create role ${role} login connection limit 1`);
      try {
        await db.pool.query(`grant create on database "${new URL(db.url).pathname.slice(1)}" to ${role}`);
        const url = new URL(db.url);
        url.username = role;
        expect(await runCli(['migrate'], { DATABASE_URL: url.toString() })).toMatchObject({ code: 0 });
        expect(await tables(db)).toEqual(TABLES);
      } finally {
        await db.pool.query(`drop owned by ${role}`);
        await db.pool.query(`drop role ${role}`);
      }
    });

    it('end the server process left holding their lock where a pooler got past that check', async () => {
      const db = await fresh();
      // Each connection keeps its server process until it takes the lock: the check sees a direct connection.
      const options = { pinUntil: /pg_advisory_lock\(/, roundRobin: true, warm: 2 };
      expect(await migrateThrough(db, options)).toBeInstanceOf(TransactionPoolingError);
      await vi.waitFor(async () => expect((await db.pool.query(ownLocks)).rows[0].n).toBe(0), {
        timeout: 10_000,
        interval: 20,
      });
      // Each migration ran in a transaction of its own, whole: they are applied, and the next start is not held up.
      expect(await tables(db)).toEqual(TABLES);
      expect((await db.database.migrate()).applied).toBe(0);
    });
  });

  it('wait only so long behind a query on a table they change, and try again', async () => {
    const db = await fresh();
    await db.database.migrate();
    const pending = await pendingFrom(db, '0008_group_tree_top_down');
    const before = await applied(db);
    const patience = { lockTimeoutMs: 50, attempts: 3, pauseMs: 10 };
    const patient = postgresDatabase(db.pool, { migrationPatience: patience });
    const reader = await db.pool.connect();
    try {
      // A dashboard's query, still running: its transaction holds group_tree.
      await reader.query('begin');
      await reader.query('select * from wecom.corps_current');
      const error = await patient.migrate().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MigrationLockError);
      expect((error as Error).message).toBe(
        'migration 0008_group_tree_top_down was not applied: 3 times it waited 50 ms for tables other sessions are using (long queries, say); try again once they are done',
      );
      // Nothing is left waiting behind the migration.
      const waiting =
        await db.pool.query(`select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
         where not l.granted and a.datname = current_database()`);
      expect(waiting.rows[0].n).toBe(0);
      // The commands say so in one line, and exit 5: the database, not the configuration.
      await expect(commandMigrate(patient, pino({ level: 'silent' }))).rejects.toMatchObject({
        code: EXIT.database,
        message: `DATABASE_URL: ${(error as Error).message}`,
      });
      expect(await applied(db)).toEqual(before);
      await reader.query('commit');
      expect(await patient.migrate()).toEqual({ applied: pending, unknown: 0 });
    } finally {
      reader.release();
    }
  });

  it('try again after a deadlock with a session using the tables, as after a lock timeout', async () => {
    const db = await fresh();
    await db.database.migrate();
    // 0008 pending again: it reads chain_groups to define group_tree anew, then takes group_tree.
    const pending = await pendingFrom(db, '0008_group_tree_top_down');
    // A lock timeout longer than deadlock_timeout (1 s): PostgreSQL reports the cycle as a deadlock first.
    const patient = postgresDatabase(db.pool, {
      migrationPatience: { lockTimeoutMs: 10_000, attempts: 3, pauseMs: 10 },
    });
    const other = await db.pool.connect();
    try {
      // Another session has read group_tree in its transaction (an older job, say)...
      await other.query('begin');
      await other.query('select count(*) from wecom.group_tree');
      const migrating = patient.migrate();
      await vi.waitFor(
        async () => {
          const { rows } = await db.pool.query(
            `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
             where not l.granted and l.relation = 'wecom.group_tree'::regclass and a.datname = current_database()`,
          );
          expect(rows[0].n).toBe(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      // ...and now needs chain_groups, which the migration has read: a cycle, which costs the migration its try.
      await other.query('lock table wecom.chain_groups in access exclusive mode');
      await other.query('commit');
      expect(await migrating).toEqual({ applied: pending, unknown: 0 });
    } finally {
      other.release();
    }
  });

  describe('0010, one index for the versions of a corp', () => {
    const version = (corpKey: string, validFrom: string, validTo: string | null) =>
      `insert into wecom.chain_corp_history (upstream_corpid, chain_id, entity_key, corp_key, corpid, corp_name,
         custom_id, groupid, is_joined, valid_from, valid_to, opened_run_id)
       values ('wwup', 'ch1', '${corpKey}', '${corpKey}', '${corpKey}', 'A', '', 1, true, '${validFrom}',
         ${validTo === null ? 'null' : `'${validTo}'`}, 1)`;

    it('keeps one open version per corp, and any number of closed ones', async () => {
      const db = await fresh();
      await db.database.migrate();
      await db.pool.query(version('wwa', '2026-01-01', '2026-02-01'));
      await db.pool.query(version('wwa', '2026-02-01', '2026-03-01'));
      await db.pool.query(version('wwa', '2026-03-01', null));
      await db.pool.query(version('wwb', '2026-03-01', null));
      await expect(db.pool.query(version('wwa', '2026-04-01', null))).rejects.toMatchObject({
        code: '23505',
        constraint: 'chain_corp_history_version_key',
      });
    });

    it('does not blame the stored data for a race with another session over a name in the catalog', async () => {
      const db = await fresh();
      await db.database.migrate();
      await pendingFrom(db, '0010_merge_corp_history_indexes');
      const patient = postgresDatabase(db.pool, {
        migrationPatience: { lockTimeoutMs: 10_000, attempts: 1, pauseMs: 10 },
      });
      const other = await db.pool.connect();
      try {
        // Another session creates an index of the name 0010 gives its own, and has yet to commit...
        await other.query('begin');
        await other.query(
          'create index chain_corp_history_version_key on wecom.chain_corp_history (corp_key)',
        );
        const migrating = patient.migrate().catch((e: unknown) => e);
        // ...so 0010's catalog row waits for that transaction...
        await vi.waitFor(
          async () => {
            const { rows } = await db.pool.query(
              `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
               where not l.granted and l.locktype = 'transactionid' and a.datname = current_database()`,
            );
            expect(rows[0].n).toBe(1);
          },
          { timeout: 10_000, interval: 20 },
        );
        // ...and fails on the catalog's unique index once it commits.
        await other.query('commit');
        const error = await migrating;
        expect(error).toMatchObject({ code: '23505', constraint: 'pg_class_relname_nsp_index' });
        expect(error).not.toBeInstanceOf(MigrationDataError);
      } finally {
        other.release();
      }
    });

    it('refuses, in one line naming the rows, a history with two versions of a corp ending at once, and changes nothing', async () => {
      const db = await fresh();
      await db.database.migrate();
      await pendingFrom(db, '0010_merge_corp_history_indexes');
      const before = await applied(db);
      // A version that lasted no time: only a clock stepping back, or a hand, could have written it.
      await db.pool.query(version('wwa', '2026-01-01', '2026-02-01'));
      await db.pool.query(version('wwa', '2026-02-01', '2026-02-01'));
      const result = await runCli(['migrate'], { DATABASE_URL: db.url });
      expect(result.code).toBe(EXIT.database);
      // The instant as the server's TimeZone writes it.
      expect(result.stderr).toMatch(
        /^wecom-chain-sync: DATABASE_URL: migration 0010_merge_corp_history_indexes was not applied, as the data stored does not allow it: could not create unique index "chain_corp_history_version_key": Key \(upstream_corpid, chain_id, corp_key, valid_to\)=\(wwup, ch1, wwa, 2026-0[12]-[0-9]{2} [0-9:+-]+\) is duplicated\.\n$/,
      );
      expect(await applied(db)).toEqual(before);
      const { rows } = await db.pool.query(
        `select indexname from pg_indexes where tablename = 'chain_corp_history' order by 1`,
      );
      expect(rows.map((r) => r.indexname)).toContain('chain_corp_history_open_idx');
      // Once the operator has dealt with the row, it applies.
      await db.pool.query(`delete from wecom.chain_corp_history where valid_from = valid_to`);
      expect((await runCli(['migrate'], { DATABASE_URL: db.url })).code).toBe(EXIT.ok);
    });
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
