// `sql "<query>"`: one read-only query against whichever database is configured, as an aligned table.
import { parseDatabase } from '../config.ts';
import type { Session } from '../db/database.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { wecomCatalog } from '../db/migrations.ts';
import { createLogger } from '../log.ts';
import { databaseVariable, explainDatabaseError } from '../reporting/errors.ts';
import { openConfigured } from './database.ts';
import { EXIT, type ExitCode, ExitError, UsageError } from './exit-codes.ts';
import { printJson, printTable, type ReadResult } from './sql-output.ts';

// What a cursor can hold (DECLARE takes a SELECT or VALUES, WITH and TABLE being forms of them); the rest
// (EXPLAIN, SHOW) runs as it is, its result being small.
const CURSOR_QUERIES = new Set(['select', 'with', 'values', 'table']);
const CURSOR = 'wcs_sql';
const BATCH = 1000;

/**
 * The statement's first keyword, past what PostgreSQL's lexer passes over before it: white space, empty
 * statements (';'), opening parentheses, line comments (to a CR or LF) and block comments, which nest.
 */
function firstKeyword(text: string): string {
  let i = 0;
  while (i < text.length) {
    if (/[\s;(]/.test(text[i]!)) i++;
    else if (text.startsWith('--', i)) i += text.slice(i).search(/[\r\n]|$/);
    else if (text.startsWith('/*', i)) i = blockCommentEnd(text, i);
    else break;
  }
  return /^[A-Za-z]+/.exec(text.slice(i))?.[0]?.toLowerCase() ?? '';
}

/** Where the block comment that opens at `start` ends, nested ones included (the text's end if never). */
function blockCommentEnd(text: string, start: number): number {
  let depth = 0;
  let i = start;
  do {
    if (text.startsWith('/*', i)) depth++;
    else if (text.startsWith('*/', i)) depth--;
    else {
      i++;
      continue;
    }
    i += 2;
  } while (depth > 0 && i < text.length);
  return i;
}

export async function sqlCommand(positionals: string[], values: Record<string, unknown>): Promise<ExitCode> {
  const [text, ...extra] = positionals;
  if (!text?.trim() || extra.length > 0) throw new UsageError('give exactly one query, in quotes', 'sql');
  // COPY sends its rows outside the query's result (TO STDOUT printed nothing), or to the server's files
  // and programs, which a read-only transaction does not stop.
  if (firstKeyword(text) === 'copy')
    throw new ExitError(EXIT.usage, 'sql does not run COPY: select the rows instead (--json for a script)');
  const database = parseDatabase(process.env);
  const db = await openConfigured(database, createLogger());
  try {
    const session = await db.session();
    try {
      const read = await runQuery(session, db.driver, text).catch(async (err: Error) => {
        await stopSignalsHandled();
        return queryFailed(session, db.driver, err);
      });
      await stopSignalsHandled();
      await (values.json ? printJson : printTable)(read, process.stdout);
    } finally {
      await session.query('rollback').catch(() => {});
      session.release();
    }
    return EXIT.ok;
  } finally {
    await db.close();
  }
}

/**
 * Runs the query to its end and gives a reader of its result. A query's result is kept on the server by a
 * cursor, and read a batch at a time, as often as the output needs: this process holds a batch, not the result.
 */
async function runQuery(session: Session, driver: 'postgres' | 'pglite', text: string): Promise<ReadResult> {
  // The transaction, not a parser, makes it read-only: any write is refused by the database itself. One
  // statement only, or a "commit;" in the text would end the transaction and let the next one write.
  await session.query('begin read only');
  // Stopped (Ctrl-C), this process exits at once; the server would run the query on, holding its locks,
  // until it next wrote to the connection. It looks every second instead (Linux servers; not PGlite).
  if (driver === 'postgres') await session.query("set local client_connection_check_interval = '1s'");
  if (!CURSOR_QUERIES.has(firstKeyword(text))) {
    const result = await session.statement(text);
    return async function* () {
      yield result;
    };
  }
  await session.statement(`declare ${CURSOR} scroll cursor with hold for ${text}`);
  // A held cursor runs its query at commit, to the end and still read-only, and keeps the rows: an error comes
  // before anything is printed, and a volatile function's values are the same in both passes of a table.
  await session.query('commit');
  return async function* () {
    await session.query(`move absolute 0 in ${CURSOR}`);
    for (;;) {
      const batch = await session.statement(`fetch forward ${BATCH} from ${CURSOR}`);
      yield batch;
      if (batch.rows.length < BATCH) return;
    }
  };
}

/**
 * A stop signal that came while PGlite ran the query (on this thread: its handler could not run) is handled
 * on this turn of the event loop, before the result or the query's error is reported: the exit is 9.
 */
function stopSignalsHandled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Throws what the failure means: the query's own mistake (exit 2), or a database not set up (exit 3). */
async function queryFailed(session: Session, driver: 'postgres' | 'pglite', err: Error): Promise<never> {
  if (isDatabaseUnavailable(err)) throw err;
  // A table the query names is missing: a typo, unless the job's own tables are missing too.
  if ((err as { code?: string }).code === '42P01' || (err as { code?: string }).code === '3F000') {
    // From the catalog, which any role may read (to_regclass needs USAGE on the schema).
    const migrated = await session
      .query('rollback')
      .then(() => wecomCatalog(session, 'sync_runs'))
      .then(
        (found) => found.table,
        () => true,
      );
    if (!migrated) explainDatabaseError(err, databaseVariable(driver));
  }
  throw new ExitError(EXIT.usage, `query failed: ${err.message}`);
}
