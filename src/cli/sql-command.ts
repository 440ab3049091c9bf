// `sql "<query>"`: one read-only query against whichever database is configured, as an aligned table.
import { parseDatabase } from '../config.ts';
import { ExactInteger, PrintedValue, type QueryResult, type Session } from '../db/database.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { wecomCatalog } from '../db/migrations.ts';
import { createLogger } from '../log.ts';
import { databaseVariable, explainDatabaseError } from '../reporting/errors.ts';
import { type Column, renderTable } from '../reporting/text-table.ts';
import { openConfigured } from './database.ts';
import { EXIT, type ExitCode, ExitError, UsageError } from './exit-codes.ts';

type Row = unknown[];

// NaN and ±Infinity, which a float column may hold, as PostgreSQL prints them: JSON has no such numbers.
const nonFinite = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;

function show(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof PrintedValue) return value.text;
  if (typeof value === 'object') return JSON.stringify(value, nonFinite);
  return String(value);
}

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
    let result: QueryResult<Row>;
    try {
      // The transaction, not a parser, makes it read-only: any write is refused by the database itself. One
      // statement only, or a "commit;" in the text would end the transaction and let the next one write.
      await session.query('begin read only');
      // Stopped (Ctrl-C), this process exits at once; the server would run the query on, holding its locks,
      // until it next wrote to the connection. It looks every second instead (Linux servers; not PGlite).
      if (db.driver === 'postgres') await session.query("set local client_connection_check_interval = '1s'");
      result = await session.statement(text).catch(async (err: Error) => {
        await stopSignalsHandled();
        return queryFailed(session, db.driver, err);
      });
    } finally {
      await session.query('rollback').catch(() => {});
      session.release();
    }
    await stopSignalsHandled();
    process.stdout.write(values.json ? asJson(result) : asTable(result));
    return EXIT.ok;
  } finally {
    await db.close();
  }
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

function asJson({ fields, rows }: QueryResult<Row>): string {
  // An object per row, keyed by column: two columns of one name would be one key, one value lost.
  const twice = fields.find((name, i) => fields.indexOf(name) !== i);
  if (twice !== undefined)
    throw new ExitError(EXIT.usage, `--json needs a name per column, and "${twice}" names two: alias one`);
  const objects = rows.map((row) => Object.fromEntries(fields.map((name, i) => [name, row[i]])));
  return `${JSON.stringify(objects, nonFinite)}\n`;
}

function asTable({ fields, rows }: QueryResult<Row>): string {
  const columns: Column<Row>[] = fields.map((name, i) => ({
    header: name,
    // Numbers line up on the right, as in psql.
    align:
      rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] instanceof ExactInteger)
        ? 'right'
        : 'left',
    value: (row) => show(row[i]),
  }));
  const table = columns.length ? `${renderTable(columns, rows)}\n` : '';
  return `${table}(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}
