// A connection of ours left idle inside a transaction (its process gone mid-merge) is ended by the server,
// releasing the row locks that would block the next sync's merge of the same chain.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('postgresDatabase sessions', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db?.drop());

  it('has the server end a transaction left idle, and with it the locks it held', async () => {
    const pool = createPool(db.url, 2);
    try {
      const session = await postgresDatabase(pool, { idleInTransactionMs: 300 }).session();
      await session.query('begin');
      await session.query(
        `insert into wecom.chains (upstream_corpid, chain_id, chain_name) values ('ww', 'c', 'x')`,
      );
      await session.query(`select 1 from wecom.chains where chain_id = 'c' for update`);
      await vi.waitFor(() => expect(session.lost.aborted).toBe(true), { timeout: 10_000, interval: 20 });
      session.release(true);
      // Nothing was committed, and nothing is locked: another writer goes straight through.
      await db.pool.query(
        `insert into wecom.chains (upstream_corpid, chain_id, chain_name) values ('ww', 'c', 'y')`,
      );
      const { rows } = await db.pool.query(`select chain_name from wecom.chains where chain_id = 'c'`);
      expect(rows).toEqual([{ chain_name: 'y' }]);
    } finally {
      await pool.end();
    }
  });
});
