import pg from 'pg';

// bigint columns (ids, groupids, order) stay well inside 2^53: read them as numbers, not strings. Set on
// our pools only, not on pg's global parsers, so nothing else in the process changes behaviour.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8
      ? Number
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * How long a connection of ours may sit idle inside a transaction before the server ends it. Ours never
 * pause between a transaction's statements, so only one whose process is gone (a vanished node, a
 * partition) does: its merge would otherwise hold its chain's row lock, and block the next sync's merge
 * of that chain, until TCP keepalive gives up (two hours by default). Well under the 2 minutes after which
 * the next sync takes the run lock over (run-lock.ts).
 */
export const IDLE_IN_TRANSACTION_MS = 60_000;

export function createPool(
  databaseUrl: string,
  max: number,
  idleInTransactionMs = IDLE_IN_TRANSACTION_MS,
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    application_name: 'wecom-chain-sync',
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // Queued before any query of whoever asked for the connection. A SET, not a startup option, which
  // connection poolers such as PgBouncer refuse.
  pool.on('connect', (client) => {
    client
      .query(`set idle_in_transaction_session_timeout = ${Math.round(idleInTransactionMs)}`)
      .catch(() => {});
  });
  return pool;
}
