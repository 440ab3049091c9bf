// `sql` reads its result a batch at a time from a cursor and keeps it, past 4 MB, in a temporary file until it
// prints it, so its memory does not grow with the result: a result that would need hundreds of MB held at once
// prints under a heap ceiling far below that, as a table and as JSON. Before it streamed, 200,000 such rows needed more than 160 MB of heap as a
// table, and 128 MB ended it with "JavaScript heap out of memory" (docs/benchmarks.md, finding 2).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAIN } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const ROWS = 200_000;
const HEAP = ['--max-old-space-size=48', '--max-semi-space-size=2'];
// Ten columns of the kinds a corp row has: ids and names, a number, a flag, a time, a null.
const QUERY = `select g as id, 'ww' || md5(g::text) as corpid, md5((g * 7)::text) as corp_name,
  md5((g * 13)::text) as custom_id, g % 1000 as groupid, 'user' || g as invite_userid, g % 2 = 0 as is_joined,
  now() as updated_at, null::text as pending_corpid, 'verified' as qualification_status
  from generate_series(1, ${ROWS}) g`;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

const run = promisify(execFile);

it(`prints a ${ROWS.toLocaleString('en')}-row result, as a table and as JSON, in a 48 MB heap`, async () => {
  const sql = (...args: string[]) =>
    run(process.execPath, [...HEAP, MAIN, 'sql', ...args, QUERY], {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      maxBuffer: 256 * 2 ** 20,
      // Both together under the test's own timeout, so that a child that hangs is killed and its stderr shown.
      timeout: 25_000,
    });
  const table = (await sql()).stdout.split('\n');
  expect(table.at(-2)).toBe(`(${ROWS} rows)`);
  expect(table).toHaveLength(ROWS + 4);
  // Measured over every row: the widest id is the last one's.
  expect(table[0]).toMatch(/^ {4}id {2}corpid/);
  expect(table.at(-3)).toMatch(new RegExp(`^${ROWS}  ww`));
  const rows = JSON.parse((await sql('--json')).stdout) as { id: number }[];
  expect(rows).toHaveLength(ROWS);
  expect(rows.at(-1)!.id).toBe(ROWS);
});

it('prints rows of 50 KB each in the same heap: a batch brings fewer of them', async () => {
  // A thousand of them at once would be 50 MB of text, and more again as the driver holds them.
  const query = `select g, repeat('x', 50000) as doc from generate_series(1, 1200) g`;
  const { stdout } = await run(process.execPath, [...HEAP, MAIN, 'sql', query, '--json'], {
    env: { PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
    maxBuffer: 128 * 2 ** 20,
    timeout: 25_000,
  });
  const rows = JSON.parse(stdout) as { g: number; doc: string }[];
  expect(rows).toHaveLength(1200);
  expect(rows.at(-1)).toEqual({ g: 1200, doc: 'x'.repeat(50000) });
});

it('prints 1,900,000 one-character rows in the same heap', async () => {
  // Concatenated row by row, the spool's strings were ropes of a node a row: heap out of memory here.
  const { stdout } = await run(
    process.execPath,
    [...HEAP, MAIN, 'sql', 'select 1 as x from generate_series(1, 1900000)'],
    {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      maxBuffer: 64 * 2 ** 20,
      timeout: 25_000,
    },
  );
  expect(stdout.endsWith('(1900000 rows)\n')).toBe(true);
});
