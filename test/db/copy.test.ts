import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyRows, encodeCopyRow } from '../../src/db/copy.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('COPY text encoding', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('round-trips values the text format would otherwise misread', async () => {
    const values = [
      'plain',
      'tab\there',
      'new\nline',
      'cr\rlf',
      'back\\slash',
      '\\N',
      '上海美馨粮油有限公司',
      '',
      'a\\tb',
    ];
    const client = await db.pool.connect();
    try {
      await client.query('create temp table t (i int, s text, b boolean, n bigint)');
      await copyRows(
        client,
        't (i, s, b, n)',
        values.map((s, i) => encodeCopyRow([i, s, i % 2 === 0, i === 0 ? null : 4_294_967_295])),
      );
      const { rows } = await client.query('select i, s, b, n from t order by i');
      expect(rows.map((r) => r.s)).toEqual(values);
      expect(rows.map((r) => r.b)).toEqual(values.map((_, i) => i % 2 === 0));
      expect(rows[0].n).toBeNull();
      expect(rows[1].n).toBe(4_294_967_295);
    } finally {
      client.release();
    }
  });
});
