// How `sql` prints a result: taken a batch at a time as the query is read, into a spool (see spool.ts), and
// printed once it is complete, as JSON or as an aligned table whose widths the batches have grown.
import { once } from 'node:events';
import { ExactInteger, PrintedValue, type QueryResult } from '../db/database.ts';
import { type Align, sanitize, TableLayout } from '../reporting/text-table.ts';
import { EXIT, ExitError } from './exit-codes.ts';
import { lines, PIECE, type Spool } from './spool.ts';

type Row = unknown[];

export interface ResultPrinter {
  /** A batch of the result, as it is read (each carries the fields); returns the characters it kept. */
  add(batch: QueryResult<Row>): number;
  /** Writes what was added, once the result is complete. */
  print(out: NodeJS.WritableStream): Promise<void>;
}

// NaN and ±Infinity, which a float column may hold, as PostgreSQL prints them: JSON has no such numbers.
const nonFinite = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;

function show(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof PrintedValue) return value.text;
  if (typeof value === 'object') return JSON.stringify(value, nonFinite);
  return String(value);
}

const isNumber = (value: unknown) => typeof value === 'number' || value instanceof ExactInteger;

/**
 * Waits for a reader slower than the output, and gives the event loop a turn, where a stop signal is handled
 * (nothing else would: writes to a file or a pipe, and PGlite's queries, complete without one).
 */
async function write(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
  await new Promise((turn) => setImmediate(turn));
}

/** Spools what `each` makes of every row, in pieces; returns the characters spooled. */
function spoolRows(spool: Spool, rows: readonly Row[], each: (row: Row) => string): number {
  const before = spool.written;
  // Joined, not concatenated: `text += …` makes a rope of one node a row, which the spool would keep in memory at
  // many times the size of short rows (a million one-character rows: heap out of memory in 48 MB).
  let parts: string[] = [];
  let length = 0;
  for (const row of rows) {
    const text = each(row);
    parts.push(text);
    length += text.length;
    if (length < PIECE) continue;
    spool.write(parts.join(''));
    parts = [];
    length = 0;
  }
  spool.write(parts.join(''));
  return spool.written - before;
}

/** One object per row, keyed by column, in one array. */
export class JsonPrinter implements ResultPrinter {
  readonly #spool: Spool;
  #separator = '[';

  constructor(spool: Spool) {
    this.#spool = spool;
  }

  add({ fields, rows }: QueryResult<Row>): number {
    // Two columns of one name would be one key, one value lost.
    const twice = fields.find((name, i) => fields.indexOf(name) !== i);
    if (twice !== undefined)
      throw new ExitError(EXIT.usage, `--json needs a name per column, and "${twice}" names two: alias one`);
    return spoolRows(this.#spool, rows, (row) => {
      const object = Object.fromEntries(fields.map((name, i) => [name, row[i]]));
      const text = this.#separator + JSON.stringify(object, nonFinite);
      this.#separator = ',';
      return text;
    });
  }

  async print(out: NodeJS.WritableStream): Promise<void> {
    for (const piece of this.#spool.read()) await write(out, piece);
    await write(out, this.#separator === '[' ? '[]\n' : ']\n');
  }
}

/** An aligned table, as psql prints one, then the row count. Spooled as its cells, a line a row. */
export class TablePrinter implements ResultPrinter {
  readonly #spool: Spool;
  #layout: TableLayout | undefined;
  #numeric: boolean[] = [];
  #count = 0;

  constructor(spool: Spool) {
    this.#spool = spool;
  }

  add({ fields, rows }: QueryResult<Row>): number {
    if (!this.#layout) {
      this.#layout = new TableLayout(fields);
      this.#numeric = fields.map(() => true);
    }
    const layout = this.#layout;
    this.#count += rows.length;
    return spoolRows(this.#spool, rows, (row) => {
      // Sanitized, a cell holds no tab or newline.
      const cells = row.map((value) => sanitize(show(value)));
      layout.widen(cells);
      for (let i = 0; i < cells.length; i++) this.#numeric[i] &&= isNumber(row[i]);
      return `${cells.join('\t')}\n`;
    });
  }

  async print(out: NodeJS.WritableStream): Promise<void> {
    const layout = this.#layout;
    if (layout && layout.headers.length > 0) {
      // Numbers line up on the right, as in psql.
      const aligns: Align[] = this.#numeric.map((all) => (all && this.#count > 0 ? 'right' : 'left'));
      let text = `${layout.head(aligns)}\n`;
      for (const line of lines(this.#spool.read())) {
        text += `${layout.line(line.split('\t'), aligns)}\n`;
        if (text.length < PIECE) continue;
        await write(out, text);
        text = '';
      }
      await write(out, text);
    }
    await write(out, `(${this.#count} row${this.#count === 1 ? '' : 's'})\n`);
  }
}
