// The recheck of a missing corp whose answer does not fit: kept as stored, but never in a group that is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { syncAgainstScript } from '../helpers/simulated.ts';
import { ok, type Script } from '../wecom/helpers.ts';

describe('a missing corp whose recheck does not fit', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const sync = (script: Script) =>
    syncAgainstScript(db.database, [{ chain_id: 'c1', chain_name: 'n' }], script);
  const group = (groupid: number) => ({ groupid, group_name: `g${groupid}`, parentid: 1, order: groupid });

  it('is removed, not kept current, when its group is gone too', async () => {
    const corp = { groupid: 3, corpid: 'ww-x', corp_name: 'x', custom_id: '', is_joined: 1 };
    const first = await sync({
      get_chain_group: () => ok({ groups: [group(2), group(3)] }),
      get_chain_corpinfo_list: (req) =>
        ok({ has_more: false, group_corps: req.body!.groupid === 3 ? [corp] : [] }),
      get_chain_corpinfo: () => ok({ corp_name: 'x', qualification_status: 2, groupid: 3, is_joined: true }),
    });
    expect(first.status).toBe('succeeded');
    // Group 3 is gone; the corp is in no listing, and its recheck answers a name that is not text.
    const second = await sync({
      get_chain_group: () => ok({ groups: [group(2)] }),
      get_chain_corpinfo_list: () => ok({ has_more: false, group_corps: [] }),
      get_chain_corpinfo: () => ok({ corp_name: 42, groupid: 3, is_joined: true }),
    });
    expect(second.status).toBe('succeeded');
    const { rows } = await db.pool.query(
      `select c.corp_key, c.removed_at is not null as removed, g.removed_at is not null as group_removed
       from wecom.chain_corps c join wecom.chain_groups g using (upstream_corpid, chain_id, groupid)`,
    );
    expect(rows).toEqual([{ corp_key: 'ww-x', removed: true, group_removed: true }]);
  });
});
