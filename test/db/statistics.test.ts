import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUSH_WRITE_COUNTERS, refreshStatistics } from '../../src/db/statistics.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('refreshStatistics', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  // ANALYZE writes the table's row count to pg_class at once; -1 means never analysed.
  const rowsKnown = async (table: string) =>
    (
      await db.pool.query(`select reltuples::int as n from pg_class where oid = $1::regclass`, [
        `wecom.${table}`,
      ])
    ).rows[0].n;
  // Written as the job writes: the backend reports its write counters as it commits.
  const addGroups = async (from: number, to: number) => {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(
        `insert into wecom.chain_groups (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order)
         select 'wwup', 'ch1', g, 'g' || g, 1, g from generate_series($1::int, $2::int) g`,
        [from, to],
      );
      await client.query(FLUSH_WRITE_COUNTERS);
      await client.query('commit');
    } finally {
      client.release();
    }
  };

  it('analyses a table written beyond autovacuum threshold, and only such a table', async () => {
    await addGroups(1, 1000);
    expect(await rowsKnown('chain_groups')).toBe(-1);
    expect((await refreshStatistics(db.database)).analysed).toContain('chain_groups');
    expect(await rowsKnown('chain_groups')).toBe(1000);
    expect(await rowsKnown('chain_corps')).toBe(-1);

    // The threshold grows with the table: 50 + 10% of 1,000 rows.
    await addGroups(1001, 1120);
    expect((await refreshStatistics(db.database)).analysed).not.toContain('chain_groups');
    expect(await rowsKnown('chain_groups')).toBe(1000);
    await addGroups(1121, 1200);
    expect((await refreshStatistics(db.database)).analysed).toContain('chain_groups');
    expect(await rowsKnown('chain_groups')).toBe(1200);
  });

  it('leaves a table whose lock another session holds to autovacuum, after a second', async () => {
    await addGroups(1201, 2000);
    const holder = await db.pool.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table wecom.chain_groups in share update exclusive mode');
      expect(await refreshStatistics(db.database)).toEqual({ analysed: [], busy: ['chain_groups'] });
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    expect(await rowsKnown('chain_groups')).toBe(1200);
    // The sessions it used wait again as long as they are told to.
    const { rows } = await db.pool.query(`select current_setting('lock_timeout') as t`);
    expect(rows[0].t).toBe('0');
  });
});
