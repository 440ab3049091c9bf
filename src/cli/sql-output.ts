// How `sql` prints a result it reads a batch at a time: JSON streams through; a table reads the result twice
// (its widths, then its lines). Neither holds more than a batch, whatever the result's size.
import { once } from 'node:events';
import { ExactInteger, PrintedValue, type QueryResult } from '../db/database.ts';
import { type Align, sanitize, TableLayout } from '../reporting/text-table.ts';
import { EXIT, ExitError } from './exit-codes.ts';

export type Row = unknown[];

/** Reads the result from its start at each call; the first batch, maybe empty, is there to name the fields. */
export type ReadResult = () => AsyncIterable<QueryResult<Row>>;

// NaN and ±Infinity, which a float column may hold, as PostgreSQL prints them: JSON has no such numbers.
const nonFinite = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;

function show(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof PrintedValue) return value.text;
  if (typeof value === 'object') return JSON.stringify(value, nonFinite);
  return String(value);
}

const cells = (row: Row) => row.map((value) => sanitize(show(value)));
const isNumber = (value: unknown) => typeof value === 'number' || value instanceof ExactInteger;

/** Waits for a reader that is slower than the result: what it has not taken stays in the pipe, not here. */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** One object per row, keyed by column, in one array. */
export async function printJson(read: ReadResult, out: NodeJS.WritableStream): Promise<void> {
  let separator = '[';
  for await (const { fields, rows } of read()) {
    // Two columns of one name would be one key, one value lost.
    const twice = fields.find((name, i) => fields.indexOf(name) !== i);
    if (twice !== undefined)
      throw new ExitError(EXIT.usage, `--json needs a name per column, and "${twice}" names two: alias one`);
    let text = '';
    for (const row of rows) {
      text +=
        separator + JSON.stringify(Object.fromEntries(fields.map((name, i) => [name, row[i]])), nonFinite);
      separator = ',';
    }
    await write(out, text);
  }
  await write(out, separator === '[' ? '[]\n' : ']\n');
}

/** An aligned table, as psql prints one, then the row count. */
export async function printTable(read: ReadResult, out: NodeJS.WritableStream): Promise<void> {
  let layout: TableLayout | undefined;
  let numeric: boolean[] = [];
  let count = 0;
  for await (const { fields, rows } of read()) {
    if (!layout) {
      layout = new TableLayout(fields);
      numeric = fields.map(() => true);
    }
    for (const row of rows) {
      layout.fit(cells(row));
      for (let i = 0; i < numeric.length; i++) numeric[i] &&= isNumber(row[i]);
    }
    count += rows.length;
  }
  if (layout && layout.headers.length > 0) {
    // Numbers line up on the right, as in psql.
    const aligns: Align[] = numeric.map((all) => (all && count > 0 ? 'right' : 'left'));
    await write(out, `${layout.head(aligns)}\n`);
    for await (const { rows } of read()) {
      if (rows.length > 0)
        await write(out, `${rows.map((row) => layout.line(cells(row), aligns)).join('\n')}\n`);
    }
  }
  await write(out, `(${count} row${count === 1 ? '' : 's'})\n`);
}
