// A listing that stalls is given a hundred cursors before it fails: ones the size of a page must not all be
// kept. A process of its own with a heap smaller than those cursors together (old space: 96 MB, the
// cursors: 200 MB) ends the chain as documented instead of running out of memory.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

it('fails a stalled listing of huge cursors for what it is, within a heap smaller than the cursors', async () => {
  const child = fileURLToPath(new URL('./huge-cursors.child.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, ['--max-old-space-size=96', child, db.url], {
    timeout: 60_000,
  });
  expect(JSON.parse(stdout)).toEqual({
    status: 'failed',
    failures: [
      {
        chain_id: 'c',
        error: 'chain c: group 1: 100 pages in a row with has_more listed no corp it had not listed before',
      },
    ],
  });
});
