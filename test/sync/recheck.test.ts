// The recheck of a missing corp: one whose answer does not fit is kept as stored (its details due again), but
// never in a group that is gone; one WeCom finds is stored where WeCom says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetailsMode } from '../../src/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { syncAgainstScript } from '../helpers/simulated.ts';
import { errcode, ok, type Script } from '../wecom/helpers.ts';

describe('the recheck of a missing corp', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const sync = (script: Script, chainId = 'c1', details: DetailsMode = 'changed') =>
    syncAgainstScript(db.database, [{ chain_id: chainId, chain_name: 'n' }], script, { details });
  const group = (groupid: number) => ({ groupid, group_name: `g${groupid}`, parentid: 1, order: groupid });

  it('whose answer does not fit is removed, not kept current, when its group is gone too', async () => {
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

  it('that WeCom finds is stored in the group WeCom names, as a listing would, even one the tree lacks', async () => {
    const corp = (corpid: string, groupid: number) => ({
      groupid,
      corpid,
      corp_name: corpid,
      custom_id: '',
      is_joined: 1,
    });
    const corps = [corp('ww-a', 3), corp('ww-b', 5)];
    const first = await sync({
      get_chain_group: () => ok({ groups: [group(2), group(3), group(5)] }),
      get_chain_corpinfo_list: (req) =>
        ok({ has_more: false, group_corps: corps.filter((c) => c.groupid === req.body!.groupid) }),
      get_chain_corpinfo: (req) =>
        ok({ corp_name: req.body!.corpid, qualification_status: 2, groupid: 3, is_joined: true }),
    });
    expect(first.status).toBe('succeeded');
    // Both moved to group 9, made after the tree was read; group 5 is gone from the tree. Marking either
    // removed would record a removal, and next run a return, for corps that never left the chain.
    const second = await sync({
      get_chain_group: () => ok({ groups: [group(2), group(3)] }),
      get_chain_corpinfo_list: () => ok({ has_more: false, group_corps: [] }),
      get_chain_corpinfo: (req) =>
        ok({ corp_name: `${req.body!.corpid} 新`, qualification_status: 1, groupid: 9, is_joined: true }),
    });
    expect(second.status).toBe('succeeded');
    expect(second.stats).toMatchObject({ missing_rechecked: 2, missing_found: 2 });
    const { rows } = await db.pool.query(
      `select corp_key, corp_name, groupid, removed_at is not null as removed
       from wecom.chain_corps where corp_key in ('ww-a', 'ww-b') order by corp_key`,
    );
    expect(rows).toEqual([
      { corp_key: 'ww-a', corp_name: 'ww-a 新', groupid: 9, removed: false },
      { corp_key: 'ww-b', corp_name: 'ww-b 新', groupid: 9, removed: false },
    ]);
  });

  it('that WeCom no longer gives as stored is removed: a pending record answered as joined, or one out of sight (60011)', async () => {
    const listed = [
      { groupid: 3, pending_corpid: 'p-x', corp_name: 'x', custom_id: '', is_joined: 0 },
      { groupid: 3, corpid: 'ww-y', corp_name: 'y', custom_id: '', is_joined: 1 },
    ];
    // A chain of its own, apart from the corps the tests above left.
    const inC2 = (script: Script) => sync(script, 'c2');
    const first = await inC2({
      get_chain_group: () => ok({ groups: [group(3)] }),
      get_chain_corpinfo_list: (req) =>
        ok({ has_more: false, group_corps: req.body!.groupid === 3 ? listed : [] }),
      get_chain_corpinfo: () => ok({ corp_name: 'y', qualification_status: 2, groupid: 3, is_joined: true }),
    });
    expect(first.status).toBe('succeeded');
    const second = await inC2({
      get_chain_group: () => ok({ groups: [group(3)] }),
      get_chain_corpinfo_list: () => ok({ has_more: false, group_corps: [] }),
      get_chain_corpinfo: (req) =>
        req.body!.pending_corpid === 'p-x'
          ? ok({ corp_name: 'x', qualification_status: 2, groupid: 3, is_joined: true })
          : errcode(60011, 'no privilege to access/modify contact/party/agent'),
    });
    expect(second.status).toBe('succeeded');
    expect(second.stats).toMatchObject({ missing_rechecked: 2, missing_found: 0 });
    const { rows } = await db.pool.query(
      `select corp_key, removed_at is not null as removed from wecom.chain_corps
       where corp_key in ('pending:p-x', 'ww-y') order by corp_key`,
    );
    expect(rows).toEqual([
      { corp_key: 'pending:p-x', removed: true },
      { corp_key: 'ww-y', removed: true },
    ]);
  });

  it('whose answer does not fit is kept as stored, its details due again and counted as refused', async () => {
    // A chain of its own, so what the other tests stored is not rechecked with it.
    const syncKept = (script: Script) => sync(script, 'c-kept');
    const corp = { groupid: 2, corpid: 'ww-k', corp_name: 'k', custom_id: '', is_joined: 1 };
    const listing = (corps: object[]) => () => ok({ has_more: false, group_corps: corps });
    const details = (status: number) => () =>
      ok({ corp_name: 'k', qualification_status: status, groupid: 2, is_joined: true });
    const first = await syncKept({
      get_chain_group: () => ok({ groups: [group(2)] }),
      get_chain_corpinfo_list: (req) => listing(req.body!.groupid === 2 ? [corp] : [])(),
      get_chain_corpinfo: details(2),
    });
    expect(first.status).toBe('succeeded');
    // In no listing, and its recheck answers a name that is not text: kept, as neither found nor gone.
    const second = await syncKept({
      get_chain_group: () => ok({ groups: [group(2)] }),
      get_chain_corpinfo_list: listing([]),
      get_chain_corpinfo: () => ok({ corp_name: 42, groupid: 2, is_joined: true }),
    });
    expect(second.status).toBe('succeeded');
    expect(second.stats).toMatchObject({ missing_rechecked: 1, missing_found: 0, details_failed: 1 });
    const stored = `select removed_at is null as current, details_fetched_at is null as due, qualification_status
                    from wecom.chain_corps where corp_key = 'ww-k'`;
    expect((await db.pool.query(stored)).rows).toEqual([
      { current: true, due: true, qualification_status: 2 },
    ]);
    // Listed again, unchanged: its details are asked for, and the status they carry now is stored.
    const third = await syncKept({
      get_chain_group: () => ok({ groups: [group(2)] }),
      get_chain_corpinfo_list: (req) => listing(req.body!.groupid === 2 ? [corp] : [])(),
      get_chain_corpinfo: details(3),
    });
    expect(third.stats).toMatchObject({ details_fetched: 1, details_failed: 0 });
    expect((await db.pool.query(stored)).rows).toEqual([
      { current: true, due: false, qualification_status: 3 },
    ]);
  });
  it('whose answer does not fit is kept in the root group, which is never gone', async () => {
    const corp = { groupid: 1, corpid: 'ww-root', corp_name: 'r', custom_id: '', is_joined: 1 };
    const first = await sync(
      {
        get_chain_group: () => ok({ groups: [group(2)] }),
        get_chain_corpinfo_list: (req) =>
          ok({ has_more: false, group_corps: req.body!.groupid ? [] : [corp] }),
        get_chain_corpinfo: () =>
          ok({ corp_name: 'r', qualification_status: 2, groupid: 1, is_joined: true }),
      },
      'c-root',
    );
    expect(first.status).toBe('succeeded');
    const second = await sync(
      {
        get_chain_group: () => ok({ groups: [group(2)] }),
        get_chain_corpinfo_list: () => ok({ has_more: false, group_corps: [] }),
        get_chain_corpinfo: () => ok({ corp_name: 42, groupid: 1, is_joined: true }),
      },
      'c-root',
    );
    expect(second.status).toBe('succeeded');
    const { rows } = await db.pool.query(
      `select removed_at is null as current from wecom.chain_corps where corp_key = 'ww-root'`,
    );
    expect(rows).toEqual([{ current: true }]);
  });

  it('is not made with SYNC_DETAILS=none: the corp is removed, WeCom not asked', async () => {
    const corp = { groupid: 2, corpid: 'ww-n', corp_name: 'n', custom_id: '', is_joined: 1 };
    const listing = (corps: object[]): Script => ({
      get_chain_group: () => ok({ groups: [group(2)] }),
      get_chain_corpinfo_list: (req) =>
        ok({ has_more: false, group_corps: req.body!.groupid === 2 ? corps : [] }),
    });
    expect((await sync(listing([corp]), 'c-none', 'none')).status).toBe('succeeded');
    let asked = 0;
    const second = await sync(
      {
        ...listing([]),
        get_chain_corpinfo: () => {
          asked += 1;
          return ok({ corp_name: 'n', groupid: 2, is_joined: true, qualification_status: 1 });
        },
      },
      'c-none',
      'none',
    );
    expect(second.status).toBe('succeeded');
    expect(asked).toBe(0);
    const { rows } = await db.pool.query(
      `select removed_at is not null as removed from wecom.chain_corps where corp_key = 'ww-n'`,
    );
    expect(rows).toEqual([{ removed: true }]);
  });
});
