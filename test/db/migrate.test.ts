import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('runMigrations', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db.drop());

  it('creates the wecom tables, and concurrent runs serialise and find nothing left to do', async () => {
    await Promise.all([db.database.migrate(), db.database.migrate(), db.database.migrate()]);
    const { rows } = await db.pool.query(
      `select table_name from information_schema.tables where table_schema = 'wecom' and table_type = 'BASE TABLE' order by 1`,
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      '__drizzle_migrations',
      'chain_corp_history',
      'chain_corps',
      'chain_group_history',
      'chain_groups',
      'chains',
      'sync_runs',
    ]);
    const applied = await db.pool.query('select count(*)::int as n from wecom.__drizzle_migrations');
    expect(applied.rows[0].n).toBeGreaterThan(0);
  });
});
