// Each test file gets a database of its own, migrated from scratch, so files can run in parallel.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { Database, Queryable, QueryResult, Session } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createPool } from '../../src/db/pool.ts';
import { MIGRATION_LOCK_KEY, postgresDatabase } from '../../src/db/postgres.ts';

export type Driver = Database['driver'];
export const DRIVERS: readonly Driver[] = ['postgres', 'pglite'];

export interface TestDb extends Queryable {
  database: Database;
  drop(): Promise<void>;
}

export interface TestDatabase extends TestDb {
  url: string;
  /** The same server through node-postgres directly, for tests of Postgres-only behaviour. */
  pool: pg.Pool;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * `adminUrl`: the server to create it on, for scripts outside vitest (default: the test run's server); `with`:
 * CREATE DATABASE's options (an encoding, say).
 */
export async function createTestDatabase(
  options: { migrate?: boolean; adminUrl?: string; with?: string } = {},
): Promise<TestDatabase> {
  const adminUrl = options.adminUrl ?? inject('adminDatabaseUrl');
  const name = `wcs_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name} ${options.with ?? ''}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const pool = createPool(url, 10);
  const database = postgresDatabase(pool);
  if (options.migrate !== false) await database.migrate();
  return {
    url,
    pool,
    database,
    query: database.query,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

/** A migrated database on either driver: a fresh Postgres database, or an in-memory PGlite. */
export async function createDriverDatabase(driver: Driver): Promise<TestDb> {
  if (driver === 'postgres') return createTestDatabase();
  const database = await openDatabase({ driver: 'pglite', dir: null }, { poolSize: 1 });
  await database.migrate();
  return { database, query: database.query, drop: () => database.close() };
}

/** The database, with every statement its sessions run handed to `query` (to record or explain it first). */
export function intercepted(
  db: Database,
  query: (session: Session, text: string, params?: unknown[]) => Promise<QueryResult<unknown>>,
): Database {
  return Object.create(db, {
    session: {
      value: async () => {
        const session = await db.session();
        return Object.create(session, {
          query: { value: (text: string, params?: unknown[]) => query(session, text, params) },
        });
      },
    },
  });
}

/** `work` while `pool` holds the migration lock, as another process migrating would. */
export async function holdingMigrationLock<T>(pool: pg.Pool, work: () => Promise<T>): Promise<T> {
  const holder = await pool.connect();
  try {
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await work();
  } finally {
    await holder.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    holder.release();
  }
}
