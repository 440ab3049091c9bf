// Scripted changes in the simulator, synced run by run: exactly these versions and these events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimCorp, SimNetwork, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { CORP_ID, SECRET, syncAgainst } from '../helpers/simulated.ts';

const CHAIN = 'chain-history';

function corp(fields: Partial<SimCorp> & Pick<SimCorp, 'corpName' | 'groupid'>): SimCorp {
  return {
    corpid: null,
    pendingCorpid: null,
    customId: '',
    inviteUserid: 'zhangsan',
    qualificationStatus: 2,
    ...fields,
  };
}

function buildNetwork(): SimNetwork {
  const network = new SimNetwork();
  network.addChain(CHAIN, '华东供应链');
  network.addGroup(CHAIN, { groupid: 10, groupName: '一级经销商', parentid: 1, order: 3 });
  network.addGroup(CHAIN, { groupid: 11, groupName: '华东', parentid: 10, order: 2 });
  network.addGroup(CHAIN, { groupid: 12, groupName: '上海', parentid: 11, order: 1 });
  network.addGroup(CHAIN, { groupid: 20, groupName: '二级经销商', parentid: 1, order: 0 });
  network.addCorp(
    CHAIN,
    corp({ corpid: 'wwj1', corpName: '上海一号贸易有限公司', customId: 'C1', groupid: 12 }),
  );
  network.addCorp(
    CHAIN,
    corp({ corpid: 'wwj2', corpName: '杭州二号商贸', customId: 'C2', groupid: 11, qualificationStatus: 1 }),
  );
  network.addCorp(
    CHAIN,
    corp({ corpid: 'wwj3', corpName: '南京三号', customId: 'C3', groupid: 20, qualificationStatus: 3 }),
  );
  // Unique, non-empty custom_id: its join links to the same entity.
  network.addCorp(CHAIN, corp({ pendingCorpid: 'p1', corpName: '苏州待加入', customId: 'C4', groupid: 20 }));
  // Empty custom_id: its join cannot be linked (a removal and a new corp).
  network.addCorp(CHAIN, corp({ pendingCorpid: 'p2', corpName: '无锡待加入', customId: '', groupid: 1 }));
  network.addCorp(CHAIN, corp({ corpid: 'wwj5', corpName: '宁波五号', customId: 'C5', groupid: 1 }));
  return network;
}

interface Version {
  entity_key: string;
  corp_key: string;
  corp_name: string;
  groupid: number;
  is_joined: boolean;
  qualification_status: number | null;
  opened: string;
  closed: string | null;
}

describe('history and chain_corp_events across scripted runs', () => {
  let db: TestDatabase;
  let sim: Simulator;
  const network = buildNetwork();
  const runs: Record<string, number> = {};
  // Names for run ids, so expectations read R1, R2… instead of numbers.
  const runName = (id: number | null) =>
    id === null ? null : (Object.entries(runs).find(([, v]) => v === id)?.[0] ?? `run ${id}`);

  async function sync(name: string, sync?: { detailsMaxAgeHours: number }): Promise<void> {
    const outcome = await syncAgainst(sim, db.database, sync ? { sync } : {});
    expect(outcome.status).toBe('succeeded');
    runs[name] = outcome.runId;
  }

  async function versions(): Promise<Version[]> {
    const { rows } = await db.pool.query(
      `select entity_key, corp_key, corp_name, groupid, is_joined, qualification_status, opened_run_id, closed_run_id
       from wecom.chain_corp_history where chain_id = $1 order by entity_key, valid_from, id`,
      [CHAIN],
    );
    return rows.map(({ opened_run_id, closed_run_id, ...r }) => ({
      ...r,
      opened: runName(opened_run_id)!,
      closed: runName(closed_run_id),
    }));
  }

  async function events(): Promise<string[]> {
    const { rows } = await db.pool.query(
      `select e.*, h.valid_from, h.valid_to
       from wecom.chain_corp_events e join wecom.chain_corp_history h on h.id = e.history_id
       where e.chain_id = $1 order by e.occurred_at, e.entity_key, e.event_type`,
      [CHAIN],
    );
    for (const e of rows) {
      // Events at a version's start carry its valid_from; a removal its valid_to.
      expect(e.occurred_at).toEqual(e.event_type === 'removed' ? e.valid_to : e.valid_from);
    }
    return rows.map((e) =>
      [
        runName(e.run_id),
        e.event_type,
        e.entity_key,
        e.corp_key,
        e.old_value,
        e.new_value,
        e.old_groupid,
        e.new_groupid,
      ]
        .map((x) => x ?? '-')
        .join(' '),
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ network, corpId: CORP_ID, corpSecret: SECRET });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  const v = (
    entity_key: string,
    corp_key: string,
    corp_name: string,
    groupid: number,
    qualification_status: number | null,
    opened: string,
    closed: string | null,
  ): Version => ({
    entity_key,
    corp_key,
    corp_name,
    groupid,
    is_joined: !corp_key.startsWith('pending:'),
    qualification_status,
    opened,
    closed,
  });

  it('the first run opens one version per corp and an "added" event for each', async () => {
    await sync('R1');
    expect(await versions()).toEqual([
      v('pending:p1', 'pending:p1', '苏州待加入', 20, null, 'R1', null),
      v('pending:p2', 'pending:p2', '无锡待加入', 1, null, 'R1', null),
      v('wwj1', 'wwj1', '上海一号贸易有限公司', 12, 2, 'R1', null),
      v('wwj2', 'wwj2', '杭州二号商贸', 11, 1, 'R1', null),
      v('wwj3', 'wwj3', '南京三号', 20, 3, 'R1', null),
      v('wwj5', 'wwj5', '宁波五号', 1, 2, 'R1', null),
    ]);
    expect(await events()).toEqual([
      'R1 added pending:p1 pending:p1 - - - -',
      'R1 added pending:p2 pending:p2 - - - -',
      'R1 added wwj1 wwj1 - - - -',
      'R1 added wwj2 wwj2 - - - -',
      'R1 added wwj3 wwj3 - - - -',
      'R1 added wwj5 wwj5 - - - -',
    ]);
  });

  it('a run that finds no change adds no history row and rewrites none', async () => {
    const snapshot = async () =>
      (
        await db.pool.query(
          `select id, xmin::text, valid_to from wecom.chain_corp_history
           union all select id, xmin::text, valid_to from wecom.chain_group_history order by 1, 2`,
        )
      ).rows;
    const before = await snapshot();
    await sync('R2');
    expect(await snapshot()).toEqual(before);
    // Even with every corp's details fetched again.
    await sync('R2b', { detailsMaxAgeHours: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('a rename, a move, two joins, a new corp and a removal: versions and events', async () => {
    network.renameCorp(CHAIN, 'wwj1', '上海一号供应链有限公司');
    network.moveCorp(CHAIN, 'wwj2', 12);
    network.joinCorp(CHAIN, 'pending:p1', 'wwj4');
    network.joinCorp(CHAIN, 'pending:p2', 'wwj7');
    network.removeCorp(CHAIN, 'wwj5');
    network.addCorp(CHAIN, corp({ corpid: 'wwj6', corpName: '合肥六号', customId: 'C6', groupid: 10 }));
    network.addCorp(
      CHAIN,
      corp({ pendingCorpid: 'p8', corpName: '常州待加入', customId: 'C8', groupid: 10 }),
    );
    // Not seen yet: qualification is refreshed only when details are fetched again.
    network.setQualification(CHAIN, 'wwj3', 1);
    await sync('R3');
    expect(await versions()).toEqual([
      v('pending:p1', 'pending:p1', '苏州待加入', 20, null, 'R1', 'R3'),
      v('pending:p1', 'wwj4', '苏州待加入', 20, 2, 'R3', null),
      v('pending:p2', 'pending:p2', '无锡待加入', 1, null, 'R1', 'R3'),
      v('pending:p8', 'pending:p8', '常州待加入', 10, null, 'R3', null),
      v('wwj1', 'wwj1', '上海一号贸易有限公司', 12, 2, 'R1', 'R3'),
      v('wwj1', 'wwj1', '上海一号供应链有限公司', 12, 2, 'R3', null),
      v('wwj2', 'wwj2', '杭州二号商贸', 11, 1, 'R1', 'R3'),
      v('wwj2', 'wwj2', '杭州二号商贸', 12, 1, 'R3', null),
      v('wwj3', 'wwj3', '南京三号', 20, 3, 'R1', null),
      v('wwj5', 'wwj5', '宁波五号', 1, 2, 'R1', 'R3'),
      v('wwj6', 'wwj6', '合肥六号', 10, 2, 'R3', null),
      v('wwj7', 'wwj7', '无锡待加入', 1, 2, 'R3', null),
    ]);
    const r3 = (await events()).filter((e) => e.startsWith('R3 '));
    expect(r3).toEqual([
      'R3 joined pending:p1 wwj4 pending:p1 wwj4 - -',
      'R3 removed pending:p2 pending:p2 - - - -',
      'R3 added pending:p8 pending:p8 - - - -',
      'R3 renamed wwj1 wwj1 上海一号贸易有限公司 上海一号供应链有限公司 - -',
      'R3 moved wwj2 wwj2 11 12 11 12',
      'R3 removed wwj5 wwj5 - - - -',
      'R3 added wwj6 wwj6 - - - -',
      'R3 added wwj7 wwj7 - - - -',
    ]);
  });

  it('an as-of query returns the chain as it was after each run', async () => {
    const asOf = async (run: string) => {
      const { rows } = await db.pool.query(
        `with at as (select finished_at as t from wecom.sync_runs where id = $2)
         select corp_key, corp_name, groupid from wecom.chain_corp_history, at
         where chain_id = $1 and valid_from <= at.t and (valid_to is null or valid_to > at.t)
         order by corp_key`,
        [CHAIN, runs[run]],
      );
      return rows.map((r) => [r.corp_key, r.corp_name, r.groupid]);
    };
    // Before R3's rename, move, joins, removal and new corps…
    expect(await asOf('R2b')).toEqual([
      ['pending:p1', '苏州待加入', 20],
      ['pending:p2', '无锡待加入', 1],
      ['wwj1', '上海一号贸易有限公司', 12],
      ['wwj2', '杭州二号商贸', 11],
      ['wwj3', '南京三号', 20],
      ['wwj5', '宁波五号', 1],
    ]);
    // … and after them.
    expect(await asOf('R3')).toEqual([
      ['pending:p8', '常州待加入', 10],
      ['wwj1', '上海一号供应链有限公司', 12],
      ['wwj2', '杭州二号商贸', 12],
      ['wwj3', '南京三号', 20],
      ['wwj4', '苏州待加入', 20],
      ['wwj6', '合肥六号', 10],
      ['wwj7', '无锡待加入', 1],
    ]);
  });

  it('a qualification change once details are re-fetched, and a removed corp coming back', async () => {
    network.addCorp(CHAIN, corp({ corpid: 'wwj5', corpName: '宁波五号', customId: 'C5', groupid: 1 }));
    await sync('R4', { detailsMaxAgeHours: 0 });
    const all = await versions();
    expect(all.filter((x) => x.entity_key === 'wwj3' || x.entity_key === 'wwj5')).toEqual([
      v('wwj3', 'wwj3', '南京三号', 20, 3, 'R1', 'R4'),
      v('wwj3', 'wwj3', '南京三号', 20, 1, 'R4', null),
      v('wwj5', 'wwj5', '宁波五号', 1, 2, 'R1', 'R3'),
      v('wwj5', 'wwj5', '宁波五号', 1, 2, 'R4', null),
    ]);
    expect(all).toHaveLength(14);
    expect((await events()).filter((e) => e.startsWith('R4 '))).toEqual([
      'R4 qualification_changed wwj3 wwj3 3 1 - -',
      'R4 restored wwj5 wwj5 - - - -',
    ]);
    // Every event, once: the whole story of the chain.
    expect(await events()).toHaveLength(6 + 8 + 2);
  });

  it('a removed corp that returns elsewhere is restored and moved; a pending corp that vanished before joining is linked; chain removal closes every version', async () => {
    network.removeCorp(CHAIN, 'wwj6');
    // WeCom stops listing the pending record a run before the joined one appears.
    network.removeCorp(CHAIN, 'pending:p8');
    await sync('R5');
    network.addCorp(CHAIN, corp({ corpid: 'wwj6', corpName: '合肥六号', customId: 'C6', groupid: 20 }));
    network.addCorp(CHAIN, corp({ corpid: 'wwj8', corpName: '常州待加入', customId: 'C8', groupid: 10 }));
    await sync('R6');
    network.removeChain(CHAIN);
    await sync('R7');
    const tail = (await events()).filter((e) => /^R[567] /.test(e));
    expect(tail).toEqual([
      'R5 removed pending:p8 pending:p8 - - - -',
      'R5 removed wwj6 wwj6 - - - -',
      'R6 joined pending:p8 wwj8 pending:p8 wwj8 - -',
      'R6 restored pending:p8 wwj8 - - - -',
      'R6 moved wwj6 wwj6 10 20 10 20',
      'R6 restored wwj6 wwj6 - - - -',
      'R7 removed pending:p1 wwj4 - - - -',
      'R7 removed pending:p8 wwj8 - - - -',
      'R7 removed wwj1 wwj1 - - - -',
      'R7 removed wwj2 wwj2 - - - -',
      'R7 removed wwj3 wwj3 - - - -',
      'R7 removed wwj5 wwj5 - - - -',
      'R7 removed wwj6 wwj6 - - - -',
      'R7 removed wwj7 wwj7 - - - -',
    ]);
    const open = await db.pool.query(
      `select count(*)::int as n from wecom.chain_corp_history where chain_id = $1 and valid_to is null`,
      [CHAIN],
    );
    expect(open.rows[0].n).toBe(0);
  });
});
