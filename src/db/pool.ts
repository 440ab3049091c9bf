import pg from 'pg';
import { connectFailure } from './errors.ts';

// bigint columns (ids, groupids, order) stay well inside 2^53: read them as numbers, not strings. Set on
// our pools only, not on pg's global parsers, so nothing else in the process changes behaviour.
export const typeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === pg.types.builtins.INT8
    ? Number
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;
const types = { getTypeParser: typeParser };

type ConnectDone = (
  err: Error | undefined,
  client?: pg.PoolClient,
  release?: (err?: unknown) => void,
) => void;

// node-postgres reads timestamps only as ISO prints them: under a database's or role's `SQL` or `German` DateStyle
// every one would read as null (and each run fetch every corp's details again). A SET, not a startup option,
// which poolers refuse; PgBouncer keeps it for the client across server connections.
const ISO_DATES = "set datestyle to 'ISO'";

export function createPool(databaseUrl: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    application_name: 'wecom-chain-sync',
    connectionTimeoutMillis: 10_000,
    types,
  });
  // A client losing its connection must not crash the process; its next query reports it. The pool listens
  // for that only while a client is idle: one just handed out, before its user's own listener (a session's,
  // postgres.ts) is on, had none, and a server ending it then was an unhandled 'error' event.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  // Every connection the pool makes, pool.query's (which passes a callback) included, tells a startup refused
  // for its settings apart from a failed query, and reads times as ISO prints them.
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const prepared = new WeakSet<pg.PoolClient>();
  const connectPrepared = async () => {
    const client = await connect().catch((err: unknown) => {
      throw connectFailure(err);
    });
    if (!prepared.has(client)) {
      await client.query(ISO_DATES).catch((failed: Error) => {
        client.release(failed);
        throw failed;
      });
      prepared.add(client);
    }
    return client;
  };
  Object.assign(pool, {
    connect: (done?: ConnectDone) => {
      if (!done) return connectPrepared();
      connectPrepared().then(
        (client) => done(undefined, client, (err) => client.release(err as Error)),
        (err: Error) => done(err),
      );
    },
  });
  return pool;
}

/**
 * A connection of its own beside `pool`'s, with the pool's settings, for a check that must not wait for the pool
 * (whose connections may all be taken); null when PostgreSQL refuses it for the role's or the database's
 * connection limit (53300). Any other failure is thrown: a pooler turning it away (PgBouncer's max_client_conn)
 * says nothing of whether the server connections are shared.
 */
export async function connectAside(pool: pg.Pool): Promise<pg.Client | null> {
  const client = new pg.Client(pool.options);
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => {});
    if ((err as { code?: unknown }).code === '53300') return null;
    throw connectFailure(err);
  }
}
