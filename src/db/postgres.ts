// The Database seam over a PostgreSQL server, with node-postgres.
import type pg from 'pg';
import { abortReason } from '../wecom/abort.ts';
import { copyRows } from './copy.ts';
import {
  type Database,
  keepingBounds,
  type Queryable,
  type QueryResult,
  type Session,
  STATEMENT_PARSERS,
} from './database.ts';
import { drizzleModule } from './drizzle.ts';
import { DatabaseEncodingError, TransactionPoolingError } from './errors.ts';
import { applyMigrations, MIGRATION_PATIENCE, type MigrationPatience } from './migrations.ts';
import { connectAside, createPool, typeParser } from './pool.ts';

const { drizzle } = drizzleModule('drizzle-orm/node-postgres');

// Any fixed key will do; it only has to differ from the per-corp sync locks.
export const MIGRATION_LOCK_KEY = 7_413_020_001;

/**
 * How long a session of ours may sit idle inside a transaction before the server ends it. Ours never
 * pause between a transaction's statements, so only one whose process is gone (a vanished node, a
 * partition) does: its merge would otherwise hold its chain's row lock, and block the next sync's merge
 * of that chain, until TCP keepalive gives up (two hours by default). Well under the 2 minutes after which
 * the next sync takes the run lock over (run-lock.ts). Set on sessions and on the migrations' connection,
 * the only ones that open transactions; a SET, not a startup option, which poolers such as PgBouncer refuse.
 */
const IDLE_IN_TRANSACTION_MS = 60_000;

/**
 * A session's own settings, whatever the role or database sets: IDLE_IN_TRANSACTION_MS ($1); no
 * idle_session_timeout (the run lock's connection sits idle for the 10 s between heartbeats, and a sync that lost
 * it would stop); no statement_timeout or transaction_timeout (PostgreSQL 17), as pg_dump turns them off for its
 * own work: a large chain's merge takes seconds, and cut short it would fail every run alike (`sql` goes without
 * them). From pg_settings, so a server without one of them is fine.
 */
const SESSION_SETTINGS = `
select set_config(name, case name when 'idle_in_transaction_session_timeout' then $1 else '0' end, false)
from pg_settings
where name in ('idle_in_transaction_session_timeout', 'idle_session_timeout', 'statement_timeout', 'transaction_timeout')`;

export interface PostgresOptions {
  idleInTransactionMs?: number;
  migrationPatience?: MigrationPatience;
}

function result<R>(r: pg.QueryResult): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? 0, fields: r.fields.map((f) => f.name) };
}

/** The pool's parsers, but for what Session.statement keeps exact. */
const statementParser = ((oid: number, format?: 'text' | 'binary') =>
  STATEMENT_PARSERS[oid] ?? keepingBounds(typeParser(oid, format))) as pg.CustomTypesConfig['getTypeParser'];

function wrapClient(client: pg.PoolClient): Session {
  const lost = new AbortController();
  const onError = (err: Error) => lost.abort(err);
  client.on('error', onError);
  // A connection that failed (ended by the server while idle, say) answers every later statement with
  // node-postgres's "not queryable", which hides why: the reason it was lost is given instead.
  const why = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      throw lost.signal.aborted ? lost.signal.reason : err;
    });
  return {
    lost: lost.signal,
    query: async (text, params) => result(await why(client.query(text, params))),
    statement: async (text) => {
      // queryMode is pg's (8.12+), not yet in its types.
      const config: pg.QueryArrayConfig = {
        text,
        rowMode: 'array',
        types: { getTypeParser: statementParser },
      };
      return result(await why(client.query(Object.assign(config, { queryMode: 'extended' }))));
    },
    copyFrom: (target, rows) => why(copyRows(client, target, rows)),
    release(broken = false) {
      client.off('error', onError);
      const gone = broken || lost.signal.aborted;
      // A dead connection can still report its end after it was given back ("Connection terminated
      // unexpectedly"): with no listener left, that error would crash the process.
      if (gone) client.on('error', () => {});
      client.release(gone ? new Error('connection broken') : undefined);
    },
  };
}

/**
 * Waits for the migration lock and returns the server process that holds it. A stop asked for meanwhile cancels
 * the wait, as another process's migrations may outlast the shutdown deadline; closing the connection would not
 * do, since a backend waiting for a lock does not notice its client has gone. A stop that comes as the lock is
 * granted wins too, and the caller closes the connection, which lets the lock go.
 */
async function lockMigrations(pool: pg.Pool, migrating: Session, signal?: AbortSignal): Promise<number> {
  const pid = await ownBackend(pool, migrating);
  const cancel = () => {
    pool.query('select pg_cancel_backend($1)', [pid]).catch(() => {});
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    // A stop asked for before the listener was added fired nothing.
    signal?.throwIfAborted();
    const { rows } = await migrating.query(`select pg_advisory_lock($1), ${BACKEND_PID}`, [
      MIGRATION_LOCK_KEY,
    ]);
    if (signal?.aborted) throw abortReason(signal);
    return rows[0].pid;
  } catch (err) {
    throw signal?.aborted === true ? abortReason(signal) : err;
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

/**
 * Lets the migration lock go. Where the unlock reaches a server process that does not hold it, a pooler in
 * transaction mode got past ownBackend: the process that does hold it is ended (it serves other clients of the
 * pooler, and would keep the lock for as long as the pooler keeps it, holding up every later start).
 */
async function unlockMigrations(migrating: Session, holder: number): Promise<void> {
  const { rows } = await migrating.query('select pg_advisory_unlock($1) as released', [MIGRATION_LOCK_KEY]);
  if (rows[0].released) return;
  // On the session itself: the pool may have no other connection to give (migrate's has one). Whichever
  // process the pooler runs it on, the holder included (which then ends itself), the lock goes.
  await migrating.query(END_MIGRATION_LOCK_HOLDER, [MIGRATION_LOCK_KEY, holder]).catch(() => {});
  throw new TransactionPoolingError(
    `server process ${holder}, which the pooler left holding the migrations' lock, was ended; ` +
      'each migration that ran was applied whole, in a transaction of its own',
  );
}

// A one-key advisory lock shows its bigint key split into classid (high half) and objid (low half).
const END_MIGRATION_LOCK_HOLDER = `
select pg_terminate_backend(pid) from pg_locks
where locktype = 'advisory' and objsubid = 1 and granted and pid = $2
  and database = (select oid from pg_database where datname = current_database())
  and (classid::bigint << 32 | objid::bigint) = $1::bigint`;

/** Refuses, before anything is created, a database whose encoding is not UTF8 (DatabaseEncodingError). */
async function assertUtf8(session: Session): Promise<void> {
  const { rows } = await session.query(`select current_setting('server_encoding') as encoding`);
  if (rows[0].encoding !== 'UTF8') throw new DatabaseEncodingError(rows[0].encoding);
}

const BACKEND_PID = 'pg_backend_pid() as pid';
const PROBE_ROUNDS = 3;

/**
 * The server process behind `session`, having made sure, as far as a client can, that it serves that session
 * alone: through a pooler in transaction mode (TransactionPoolingError) locks and temporary tables stay with
 * whichever server connection ran the statement that made them. Every command that syncs migrates first, so
 * this guards the run lock and the stages too. Such a pooler shows itself when the session's statements reach
 * different processes (a round-robin pooler, or one that handed ours to a busy client) or another connection's
 * reaches ours (PgBouncer hands out the connection freed last); without another connection (a role limited to
 * one), by the first alone. A pooler that serves a session from one process every time looks like a direct
 * connection: unlockMigrations and RunLock.release clear the lock that would then stay behind.
 */
async function ownBackend(pool: pg.Pool, session: Session): Promise<number> {
  const pidOf = async (q: Queryable) => (await q.query(`select ${BACKEND_PID}`)).rows[0].pid as number;
  const pid = await pidOf(session);
  const other = await connectAside(pool);
  try {
    for (let round = 0; round < PROBE_ROUNDS; round++) {
      if ((await pidOf(session)) !== pid) throw new TransactionPoolingError();
      if (other && (await pidOf(other)) === pid) throw new TransactionPoolingError();
      if ((await pidOf(session)) !== pid) throw new TransactionPoolingError();
    }
    return pid;
  } finally {
    await other?.end().catch(() => {});
  }
}

export function postgresDatabase(pool: pg.Pool, options: PostgresOptions = {}): Database {
  const setUp = new WeakSet<pg.PoolClient>();
  const idleInTransaction = Math.round(options.idleInTransactionMs ?? IDLE_IN_TRANSACTION_MS);
  /** A pooled connection for work that opens transactions, with the timeout set (once per connection). */
  async function session(options: { asConfigured?: boolean } = {}): Promise<Session> {
    const client = await pool.connect();
    const opened = wrapClient(client);
    if (!setUp.has(client) && !options.asConfigured) {
      try {
        await opened.query(SESSION_SETTINGS, [String(idleInTransaction)]);
      } catch (err) {
        opened.release(true);
        throw err;
      }
      setUp.add(client);
    }
    return opened;
  }
  return {
    driver: 'postgres',
    orm: drizzle({ client: pool }),
    concurrentSessions: Number.POSITIVE_INFINITY,
    query: async (text, params) => result(await pool.query(text, params)),
    session,
    async migrate(signal) {
      const migrating = await session();
      let broken = false;
      try {
        await assertUtf8(migrating);
        // Two processes starting at once serialise here; the second then finds nothing left to do.
        const holder = await lockMigrations(pool, migrating, signal).catch((err: unknown) => {
          broken = true;
          throw err;
        });
        try {
          return await applyMigrations(migrating, options.migrationPatience ?? MIGRATION_PATIENCE, signal);
        } finally {
          await unlockMigrations(migrating, holder);
        }
      } finally {
        migrating.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

export function openPostgres(url: string, poolSize: number): Database {
  return postgresDatabase(createPool(url, poolSize));
}
