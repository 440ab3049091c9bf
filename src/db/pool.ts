import pg from 'pg';

// bigint columns (ids, groupids, order) stay well inside 2^53: read them as numbers, not strings. Set on
// our pools only, not on pg's global parsers, so nothing else in the process changes behaviour.
export const typeParser = ((oid: number, format?: 'text' | 'binary') =>
  oid === pg.types.builtins.INT8
    ? Number
    : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser;
const types = { getTypeParser: typeParser };

export function createPool(databaseUrl: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    application_name: 'wecom-chain-sync',
    connectionTimeoutMillis: 10_000,
    types,
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  return pool;
}
