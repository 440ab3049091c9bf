// The benchmark's databases: created fresh from the admin URL (only names starting with wcs_bench), migrated
// by the CLI's own `migrate` command, emptied between runs, dropped at the end.
import { execFileSync } from 'node:child_process';
import pg from 'pg';

const REPO = new URL('..', import.meta.url).pathname;

/** Where bench databases are created unless --admin-url says otherwise. */
export const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  /** Empties the wecom tables (new files, no dead rows), as before a first run. */
  reset(): Promise<void>;
  drop(): Promise<void>;
}

function withDatabase(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(adminUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await admin(adminUrl, (c) => c.query(`drop database if exists ${name} with (force)`));
}

export async function createBenchDatabase(adminUrl: string, name: string): Promise<BenchDatabase> {
  if (!/^wcs_bench[a-z0-9_]*$/.test(name)) throw new Error(`refusing to manage database "${name}"`);
  await dropDatabase(adminUrl, name);
  await admin(adminUrl, (c) => c.query(`create database ${name}`));
  const url = withDatabase(adminUrl, name);
  execFileSync(process.execPath, ['src/cli/main.ts', 'migrate'], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // For the WAL breakdown by record type (PostgreSQL 15+); the benchmark does without it elsewhere.
  await pool.query('create extension if not exists pg_walinspect').catch(() => {});
  return {
    name,
    url,
    pool,
    async reset() {
      // Every table the migrations made, whatever they are by now, except the migrations' own record.
      const { rows } = await pool.query(
        `select format('%I.%I', schemaname, tablename) as t from pg_tables
         where schemaname = 'wecom' and tablename <> '__drizzle_migrations'`,
      );
      await pool.query(`truncate ${rows.map((r) => r.t).join(', ')} restart identity cascade`);
      // Fresh statistics: the first run should plan against empty tables, as a real first run does.
      await pool.query('analyze');
    },
    async drop() {
      await pool.end();
      await dropDatabase(adminUrl, name);
    },
  };
}

/** The run record of the latest run: its stats, status and duration as the job itself saw them. */
export async function latestRun(pool: pg.Pool): Promise<{
  status: string;
  syncMs: number;
  stats: {
    api: { calls: Record<string, number>; retries: Record<string, number> };
    rows: Record<string, { inserted: number; updated: number; unchanged: number; removed: number }>;
    corps_listed: number;
    details_fetched: number;
    pages: number;
  };
}> {
  const { rows } = await pool.query(
    `select status, stats, extract(epoch from finished_at - started_at)::float8 * 1000 as ms
     from wecom.sync_runs order by id desc limit 1`,
  );
  const r = rows[0];
  if (!r) throw new Error('the sync recorded no run');
  return { status: r.status, syncMs: r.ms, stats: r.stats };
}
