// `sql "<query>"`: one read-only query against whichever database is configured, as an aligned table.
import { parseDatabase } from '../config.ts';
import type { QueryResult } from '../db/database.ts';
import { isDatabaseUnavailable } from '../db/errors.ts';
import { wecomCatalog } from '../db/migrations.ts';
import { createLogger } from '../log.ts';
import { databaseVariable, explainDatabaseError } from '../reporting/errors.ts';
import { type Column, renderTable } from '../reporting/text-table.ts';
import { openConfigured } from './database.ts';
import { EXIT, type ExitCode, ExitError, UsageError } from './exit-codes.ts';

function show(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export async function sqlCommand(positionals: string[], values: Record<string, unknown>): Promise<ExitCode> {
  const [text, ...extra] = positionals;
  if (!text?.trim() || extra.length > 0) throw new UsageError('give exactly one query, in quotes', 'sql');
  const database = parseDatabase(process.env);
  const db = await openConfigured(database, createLogger());
  try {
    const session = await db.session();
    let result: QueryResult<Record<string, unknown>>;
    try {
      // The transaction, not a parser, makes it read-only: any write is refused by the database itself. One
      // statement only, or a "commit;" in the text would end the transaction and let the next one write.
      await session.query('begin read only');
      result = await session.statement(text).catch(async (err: Error) => {
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
          if (!migrated) explainDatabaseError(err, databaseVariable(db.driver));
        }
        throw new ExitError(EXIT.usage, `query failed: ${err.message}`);
      });
    } finally {
      await session.query('rollback').catch(() => {});
      session.release();
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result.rows)}\n`);
    } else {
      const columns: Column<Record<string, unknown>>[] = result.fields.map((name) => ({
        header: name,
        // Numbers line up on the right, as in psql.
        align:
          result.rows.length > 0 && result.rows.every((r) => typeof r[name] === 'number') ? 'right' : 'left',
        value: (row) => show(row[name]),
      }));
      const table = columns.length ? `${renderTable(columns, result.rows)}\n` : '';
      process.stdout.write(`${table}(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})\n`);
    }
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
