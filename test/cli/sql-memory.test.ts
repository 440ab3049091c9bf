// `sql` holds its whole result in memory, so the heap ceiling that the shebang, the npm scripts and the image
// give Node (kept equal by test/deploy/dockerfile.test.ts) decides how large a result it can print. 4 MB
// semi-spaces and a 128 MB ceiling, which would spare a sync 9 MiB of peak RSS, end this one with "JavaScript
// heap out of memory" (docs/benchmarks.md, finding 2): the flags must leave room for it, as a table (which needs
// the most: 160 MB is not enough) and as JSON.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAIN } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { SHEBANG_FLAGS } from '../helpers/node-flags.ts';

const ROWS = 200_000;
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

it(`prints a ${ROWS.toLocaleString('en')}-row result, as a table and as JSON, under the CLI's heap flags`, async () => {
  const flags = SHEBANG_FLAGS?.split(' ') ?? [];
  expect(flags).toContainEqual(expect.stringMatching(/^--max-old-space-size=/));
  const sql = (...args: string[]) =>
    run(process.execPath, [...flags, MAIN, 'sql', ...args, QUERY], {
      env: { PATH: process.env.PATH, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      maxBuffer: 256 * 2 ** 20,
      // Both together under the test's own timeout, so that a child that hangs is killed and its stderr shown.
      timeout: 25_000,
    });
  const table = await sql();
  expect(table.stdout.endsWith(`(${ROWS} rows)\n`)).toBe(true);
  const rows = JSON.parse((await sql('--json')).stdout) as { id: number }[];
  expect(rows).toHaveLength(ROWS);
  expect(rows.at(-1)!.id).toBe(ROWS);
});
