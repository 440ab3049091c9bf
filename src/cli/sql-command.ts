// `sql "<query>"`: one read-only query against whichever database is configured, as an aligned table.
import { parseDatabase } from '../config.ts';
import type { Session } from '../db/database.ts';
import { isDatabaseUnavailable, isStatementPoolingRefusal } from '../db/errors.ts';
import { wecomCatalog } from '../db/migrations.ts';
import { createLogger } from '../log.ts';
import { databaseVariable, explainDatabaseError } from '../reporting/errors.ts';
import { openConfigured } from './database.ts';
import { EXIT, type ExitCode, ExitError, UsageError } from './exit-codes.ts';
import { Spool } from './spool.ts';
import { JsonPrinter, type ResultPrinter, TablePrinter } from './sql-output.ts';

// What a cursor can hold (DECLARE takes a SELECT or VALUES, WITH and TABLE being forms of them); the rest
// (EXPLAIN, SHOW) runs as a statement, its result being small.
const CURSOR_QUERIES = new Set(['select', 'with', 'values', 'table']);
// What DECLARE refuses that the statement alone would run into a read-only error for: SELECT INTO (42601), a WITH
// that writes (0A000).
const NOT_FOR_A_CURSOR = new Set(['42601', '0A000']);
const CURSOR = 'wcs_sql';
// Rows a FETCH asks for: growing fourfold from a few to a thousand, fewer when rows are wide, so that a batch
// holds about BATCH_CHARS of output whether its rows are ids or documents of megabytes.
const FIRST_BATCH = 16;
const MAX_BATCH = 1000;
const BATCH_CHARS = 2 ** 21;

function nextBatch(count: number, chars: number): number {
  const fitting = Math.floor((count * BATCH_CHARS) / Math.max(chars, 1));
  return Math.max(1, Math.min(count * 4, MAX_BATCH, fitting));
}

/**
 * Where the statement starts: past what PostgreSQL's lexer passes over before it (white space, line comments to
 * a CR or LF, block comments, which nest), and past empty statements (';').
 */
function statementStart(text: string, from = 0): number {
  let i = from;
  while (i < text.length) {
    if (/[\s;]/.test(text[i]!)) i++;
    else if (text.startsWith('--', i)) i += text.slice(i).search(/[\r\n]|$/);
    else if (text.startsWith('/*', i)) i = blockCommentEnd(text, i);
    else break;
  }
  return i;
}

/** The statement's first keyword, inside any opening parentheses. */
function firstKeyword(text: string): string {
  let i = statementStart(text);
  while (text[i] === '(') i = statementStart(text, i + 1);
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
  const spool = new Spool();
  try {
    const printer = values.json ? new JsonPrinter(spool) : new TablePrinter(spool);
    const session = await db.session({ asConfigured: true });
    try {
      await readResult(session, db.driver, text, printer).catch(async (err: Error) => {
        await stopSignalsHandled();
        return queryFailed(session, db.driver, err);
      });
    } finally {
      // Before anything is printed: a slow reader holds no transaction open, and whatever the query did that
      // read-only mode lets through (a large object, a notification) is undone.
      await session.query('rollback').catch(() => {});
      session.release();
    }
    await stopSignalsHandled();
    await printer.print(process.stdout);
    return EXIT.ok;
  } finally {
    spool.close();
    await db.close();
  }
}

/** Runs the query in a read-only transaction, left open, and gives `printer` its result a batch at a time. */
async function readResult(
  session: Session,
  driver: 'postgres' | 'pglite',
  text: string,
  printer: ResultPrinter,
): Promise<void> {
  await beginReadOnly(session, driver);
  if (CURSOR_QUERIES.has(firstKeyword(text))) {
    // A cursor gives its rows a batch at a time, where a statement's come all at once.
    const declared = await session
      .statement(`declare ${CURSOR} no scroll cursor for ${text.slice(statementStart(text))}`)
      .then(
        () => true,
        async (err: { code?: string }) => {
          if (!NOT_FOR_A_CURSOR.has(err.code ?? '')) throw err;
          // SELECT INTO or a WITH that writes: run as written, for PostgreSQL's own word on it.
          await session.query('rollback');
          await beginReadOnly(session, driver);
          return false;
        },
      );
    if (declared) {
      for (let count = FIRST_BATCH; ; ) {
        const batch = await session.statement(`fetch forward ${count} from ${CURSOR}`);
        const chars = printer.add(batch);
        // A stop signal is handled here: PGlite's queries give the event loop no turn of their own.
        await stopSignalsHandled();
        if (batch.rows.length < count) return;
        count = nextBatch(count, chars);
      }
    }
  }
  printer.add(await session.statement(text));
}

async function beginReadOnly(session: Session, driver: 'postgres' | 'pglite'): Promise<void> {
  // The transaction, not a parser, makes it read-only: any write to a table is refused by the database itself.
  // One statement only, or a "commit;" in the text would end the transaction and let the next one write.
  await session.query('begin read only');
  // A cursor is planned for its first tenth unless told: sql reads every row.
  await session.query("set local cursor_tuple_fraction = '1'");
  // Stopped (Ctrl-C), this process exits at once; the server would run the query on, holding its locks,
  // until it next wrote to the connection. It looks every second instead (Linux servers; not PGlite).
  if (driver === 'postgres') await session.query("set local client_connection_check_interval = '1s'");
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
  // The output's own refusals (--json with a name twice, no room to spool) and a database gone say so themselves.
  if (err instanceof ExitError || isDatabaseUnavailable(err)) throw err;
  if (isStatementPoolingRefusal(err)) {
    throw new ExitError(
      EXIT.config,
      `${databaseVariable(driver)}: the pooler refused sql's read-only transaction (${err.message}): use session or transaction pooling`,
    );
  }
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
