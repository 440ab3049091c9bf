// The one seam between the job and its database driver. Everything above it (migrations, the stage and
// merge SQL, the run record, the lock, reports) is the same code for a Postgres server and for the
// embedded PGlite; only how a statement reaches the database differs.

import { parse as parseArray } from 'postgres-array';
import type { Orm } from './drizzle.ts';
import type { MigrationResult } from './migrations.ts';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
  /** Column names in order, also when there are no rows. */
  fields: string[];
}

export interface Queryable {
  // biome-ignore lint/suspicious/noExplicitAny: rows are as loosely typed as the SQL that returns them
  query<R = any>(text: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/** A connection of its own: session state (temp tables, transactions, advisory locks) stays on it. */
export interface Session extends Queryable {
  /**
   * Runs `text` as exactly one statement, whatever it holds: the extended protocol refuses a string with
   * several, so a `commit;` inside cannot end the caller's transaction. For text from outside the program.
   * Rows come back as arrays, in the order of `fields`: two columns may share a name (`select *` over a
   * join). Times, dates, intervals and byteas come back as the text PostgreSQL prints, and bigints beyond
   * 2^53 too: a Date would drop microseconds and a number digits, and a value copied from the output into a
   * query (an as-of filter) would then miss the row it came from.
   */
  statement(text: string): Promise<QueryResult<unknown[]>>;
  /** Streams rows already encoded in COPY text format into `target` ("table (columns)"). */
  copyFrom(target: string, rows: readonly string[]): Promise<void>;
  /** Aborted when the connection fails: session state (a lock, a transaction) is gone with it. */
  readonly lost: AbortSignal;
  /** Gives the connection back; a broken one is closed instead of reused. */
  release(broken?: boolean): void;
}

export interface Database extends Queryable {
  readonly driver: 'postgres' | 'pglite';
  /** drizzle over the same connection(s): the run records are written through it (db/runs.ts). */
  readonly orm: Orm;
  /**
   * How many sessions can do independent work at once. PGlite has a single connection that all
   * sessions share, so work that relies on session state must not overlap there.
   */
  readonly concurrentSessions: number;
  session(): Promise<Session>;
  /**
   * Applies pending migrations; safe when several processes start at once. `signal` ends a wait for another
   * process's migrations (it rejects with the signal's reason), never migrations under way.
   */
  migrate(signal?: AbortSignal): Promise<MigrationResult>;
  close(): Promise<void>;
}

export type DatabaseConfig = { driver: 'postgres'; url: string } | { driver: 'pglite'; dir: string | null };

export interface OpenOptions {
  /** Connections to keep for the Postgres driver. */
  poolSize: number;
}

export async function openDatabase(config: DatabaseConfig, options: OpenOptions): Promise<Database> {
  if (config.driver === 'postgres') {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(config.url, options.poolSize);
  }
  // Loaded only when used: the WASM build is large and costs start-up time.
  const { openPglite } = await import('./pglite.ts');
  return openPglite(config.dir);
}

/** A bigint for `statement`: a number while exact, its text beyond 2^53 (a hash, a queryid). */
export const exactInt8 = (value: string): number | string => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
};

const asText = (value: string): string => value;

/** An array parsed element by element; one with explicit bounds ('[2:3]={1,2}') stays text, which keeps them. */
const arrayOf =
  (element: (value: string) => unknown) =>
  (value: string): unknown =>
    value.startsWith('[') ? value : parseArray(value, element);

/**
 * How `statement` parses what the drivers' defaults would change, by type oid; both drivers take it. As the
 * text PostgreSQL prints: timestamp, timestamptz and date (a Date would drop microseconds, or shift a date by
 * the process's time zone), interval (an object otherwise), bytea (a Buffer), and their arrays. Exact:
 * bigints (exactInt8), and arrays of bigints and of numerics (text elements), which stay arrays.
 */
export const STATEMENT_PARSERS: Readonly<Record<number, (value: string) => unknown>> = {
  ...Object.fromEntries(
    [1114, 1184, 1082, 1115, 1185, 1182, 1186, 1187, 17, 1001].map((oid) => [oid, asText]),
  ),
  20: exactInt8,
  1016: arrayOf(exactInt8),
  1231: arrayOf(asText),
};

export const MIGRATIONS_FOLDER = new URL('../../migrations', import.meta.url);

/**
 * `work` between begin and commit on `session` (one connection: a Session, or a pg client). When it throws,
 * the transaction is rolled back (always: on PGlite, whose one connection every session shares, an aborted
 * transaction left open would fail every later query of the process) and the error passed on; a rollback
 * that fails, on a connection gone, fails quietly.
 */
export async function inTransaction<T>(
  session: { query(text: string): Promise<unknown> },
  work: () => Promise<T>,
): Promise<T> {
  await session.query('begin');
  try {
    const result = await work();
    await session.query('commit');
    return result;
  } catch (err) {
    await session.query('rollback').catch(() => {});
    throw err;
  }
}
