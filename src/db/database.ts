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
  /**
   * A connection of its own, with the job's session settings (postgres.ts's SESSION_SETTINGS); `asConfigured`:
   * without them, as the role and database configure it, for `sql`'s one read-only transaction. Through a
   * pooler that shares server connections, session settings would stay behind for its other clients.
   */
  session(options?: { asConfigured?: boolean }): Promise<Session>;
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

// JSON.rawJSON and the reviver's source text (Node 21+), which TypeScript's lib does not know yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** A value `statement` keeps as PostgreSQL printed it: shown as that text, in JSON as each kind says. */
export abstract class PrintedValue {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
  abstract toJSON(): unknown;
}

/**
 * A bigint past 2^53 (a hash, a queryid), which a double would change: in JSON the number as PostgreSQL
 * wrote it, so that a column's values are numbers whatever their size.
 */
export class ExactInteger extends PrintedValue {
  toJSON(): unknown {
    return rawJSON(this.text);
  }
}

/** A bigint for `statement`: a number while exact, an ExactInteger beyond. */
export const exactInt8 = (value: string): number | ExactInteger => {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : new ExactInteger(value);
};

const asText = (value: string): string => value;

/** `parse`, but an array with explicit bounds ('[2:3]={1,2}') stays text, which keeps them. */
export const keepingBounds =
  <A extends unknown[]>(parse: (value: string, ...rest: A) => unknown) =>
  (value: string, ...rest: A): unknown =>
    typeof value === 'string' && value.startsWith('[') ? value : parse(value, ...rest);

/** An array parsed element by element (see keepingBounds). */
const arrayOf = (element: (value: string) => unknown) => keepingBounds((value) => parseArray(value, element));

type Reviver = (key: string, value: unknown, context: { source?: string }) => unknown;
/** A number a double would change (a bigint past 2^53, 1.10) written back as it was. */
const exactNumbers: Reviver = (_key, value, { source }) =>
  typeof value === 'number' && source !== undefined && String(value) !== source ? rawJSON(source) : value;

/**
 * A json or jsonb value: PostgreSQL's own text, to show as it is (its `null` is no SQL NULL, a json's
 * repeated keys are kept), and in JSON output the value with every number as PostgreSQL wrote it.
 */
export class JsonValue extends PrintedValue {
  toJSON(): unknown {
    return JSON.parse(this.text, exactNumbers as Parameters<typeof JSON.parse>[1]);
  }
}
const json = (value: string) => new JsonValue(value);

/**
 * How `statement` parses what the drivers' defaults would change, by type oid; both drivers take it, and
 * wrap their own parsers of the other types in keepingBounds. As the text PostgreSQL prints: timestamp,
 * timestamptz and date (a Date would drop microseconds, or shift a date by the process's time zone),
 * interval (an object otherwise), bytea (a Buffer), and their arrays. Exact: bigints (exactInt8), arrays of
 * bigints and of numerics (text elements), which stay arrays, and json and jsonb (JsonValue) and their arrays.
 */
export const STATEMENT_PARSERS: Readonly<Record<number, (value: string) => unknown>> = {
  ...Object.fromEntries(
    [1114, 1184, 1082, 1115, 1185, 1182, 1186, 1187, 17, 1001].map((oid) => [oid, asText]),
  ),
  20: exactInt8,
  1016: arrayOf(exactInt8),
  1231: arrayOf(asText),
  114: json,
  3802: json,
  199: arrayOf(json),
  3807: arrayOf(json),
};

export const MIGRATIONS_FOLDER = new URL('../../migrations', import.meta.url);

/**
 * `work` between begin and commit on `session` (one connection: a Session, or a pg client), read committed
 * whatever the role or database sets: under a default of serializable, two chains' merges fail each other.
 * When it throws, the transaction is rolled back (always: on PGlite, whose one connection every session shares,
 * an aborted transaction left open would fail every later query of the process) and the error passed on; a
 * rollback that fails, on a connection gone, fails quietly.
 */
export async function inTransaction<T>(
  session: { query(text: string): Promise<unknown> },
  work: () => Promise<T>,
): Promise<T> {
  await session.query('begin isolation level read committed');
  try {
    const result = await work();
    await session.query('commit');
    return result;
  } catch (err) {
    await session.query('rollback').catch(() => {});
    throw err;
  }
}
