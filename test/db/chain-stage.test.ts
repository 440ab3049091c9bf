import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChainStage, type StagedCorp } from '../../src/db/chain-stage.ts';
import { CORP_HISTORY, GROUP_HISTORY } from '../../src/db/history-sql.ts';
import * as q from '../../src/db/merge-sql.ts';
import { startRun } from '../../src/db/runs.ts';
import { encodeStageRow } from '../../src/db/stage-rows.ts';
import type { CorpDetail, Group } from '../../src/wecom/types.ts';
import {
  createDriverDatabase,
  createTestDatabase,
  DRIVERS,
  intercepted,
  type TestDatabase,
} from '../helpers/db.ts';

import { CHAIN, detail, groups, joined, pending, UP } from './stage-fixtures.ts';

describe('ChainStage', () => {
  let db: TestDatabase;
  let run = 0;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(async () => {
    run = await startRun(db.database.orm, UP);
  });

  async function sync(corps: StagedCorp[], g: Group[] = groups, chain = CHAIN) {
    const stage = await ChainStage.open(db.database, UP, chain.chainId);
    try {
      await stage.add(corps);
      return await stage.commit(chain, g, run);
    } finally {
      await stage.close();
    }
  }
  const corpRows = async () =>
    (
      await db.pool.query(
        `select corp_key, corpid, pending_corpid, corp_name, groupid, qualification_status, removed_at is not null as removed,
                changed_run_id, updated_at, xmin::text as xmin from wecom.chain_corps order by corp_key`,
      )
    ).rows;

  it('inserts, then leaves unchanged rows physically untouched', async () => {
    const corps = [
      { corp: joined('wwa'), detail: detail(2) },
      { corp: joined('wwb'), detail: null },
      { corp: pending('wpc'), detail: null },
    ];
    const first = await sync(corps);
    expect(first.chain_corps).toEqual({ inserted: 3, updated: 0, unchanged: 0, removed: 0 });
    expect(first.chain_groups).toEqual({ inserted: 2, updated: 0, unchanged: 0, removed: 0 });
    expect(first.chains).toEqual({ inserted: 1, updated: 0, unchanged: 0, removed: 0 });
    const before = await corpRows();
    expect(before.map((r) => [r.corp_key, r.qualification_status])).toEqual([
      ['pending:wpc', null],
      ['wwa', 2],
      ['wwb', null],
    ]);
    const groupXmin = (await db.pool.query('select xmin::text from wecom.chain_groups order by groupid'))
      .rows;
    const chainRow = async () =>
      (await db.pool.query('select updated_at, last_run_id from wecom.chains')).rows[0];
    const chainBefore = await chainRow();

    const second = await sync(corps.map((c) => ({ ...c, detail: null })));
    expect(second.chain_corps).toEqual({ inserted: 0, updated: 0, unchanged: 3, removed: 0 });
    expect(second.chain_groups).toEqual({ inserted: 0, updated: 0, unchanged: 2, removed: 0 });
    expect(await corpRows()).toEqual(before);
    expect((await db.pool.query('select xmin::text from wecom.chain_groups order by groupid')).rows).toEqual(
      groupXmin,
    );
    // The chain's row records the run, but its name did not change: it is not dated as changed.
    expect(await chainRow()).toEqual({ ...chainBefore, last_run_id: run });
  });

  it('applies renames, moves, joins, removals and restores, and stores a corp seen twice once', async () => {
    const result = await sync([
      { corp: joined('wwa', { corpName: '新名' }), detail: null },
      { corp: joined('wwb', { groupid: 2 }), detail: null },
      { corp: joined('wwb', { groupid: 3 }), detail: null },
      { corp: joined('wwc'), detail: detail(3) },
    ]);
    // wwc is the pending wpc that joined: a new key; the pending record disappears.
    expect(result.chain_corps).toEqual({ inserted: 1, updated: 2, unchanged: 0, removed: 1 });
    const rows = await corpRows();
    expect(rows.map((r) => [r.corp_key, r.corp_name, r.groupid, r.qualification_status, r.removed])).toEqual([
      ['pending:wpc', '待wpc', 3, null, true],
      ['wwa', '新名', 2, 2, false],
      ['wwb', '名wwb', 3, null, false],
      ['wwc', '名wwc', 2, 3, false],
    ]);
    expect(rows.filter((r) => r.changed_run_id === run).map((r) => r.corp_key)).toEqual([
      'pending:wpc',
      'wwa',
      'wwb',
      'wwc',
    ]);

    const back = await sync([
      { corp: joined('wwa', { corpName: '新名' }), detail: null },
      { corp: joined('wwb', { groupid: 3 }), detail: null },
      { corp: joined('wwc'), detail: null },
      { corp: pending('wpc'), detail: null },
    ]);
    expect(back.chain_corps).toEqual({ inserted: 0, updated: 1, unchanged: 3, removed: 0 });
    expect((await corpRows()).find((r) => r.corp_key === 'pending:wpc')?.removed).toBe(false);
  });

  it('refreshes details without counting or dating an unchanged corp as changed', async () => {
    const before = (await corpRows()).find((r) => r.corp_key === 'wwa');
    const result = await sync([
      { corp: joined('wwa', { corpName: '新名' }), detail: detail(2) },
      { corp: joined('wwb', { groupid: 3 }), detail: detail(1) },
      { corp: joined('wwc'), detail: null },
      { corp: pending('wpc'), detail: null },
    ]);
    expect(result.chain_corps).toEqual({ inserted: 0, updated: 1, unchanged: 3, removed: 0 });
    const after = await corpRows();
    expect(after.find((r) => r.corp_key === 'wwa')).toMatchObject({
      changed_run_id: before?.changed_run_id,
      updated_at: before?.updated_at,
    });
    expect(after.find((r) => r.corp_key === 'wwb')).toMatchObject({
      qualification_status: 1,
      changed_run_id: run,
    });
  });

  it('keeps when its details were fetched for a corp that changed without new details', async () => {
    const fetchedAt = async () =>
      (await db.pool.query(`select details_fetched_at from wecom.chain_corps where corp_key = 'wwa'`)).rows[0]
        .details_fetched_at;
    const before = await fetchedAt();
    expect(before).not.toBeNull();
    // Renamed, and back, as the tests below expect it.
    for (const corpName of ['又一个名', '新名']) {
      const result = await sync([
        { corp: joined('wwa', { corpName }), detail: null },
        { corp: joined('wwb', { groupid: 3 }), detail: null },
        { corp: joined('wwc'), detail: null },
        { corp: pending('wpc'), detail: null },
      ]);
      expect(result.chain_corps).toMatchObject({ updated: 1 });
      expect(await fetchedAt()).toEqual(before);
    }
  });

  it('keeps the stored qualification when details come back without one', async () => {
    const unknown: CorpDetail = { ...detail(2), qualificationStatus: null };
    const stored = (await corpRows()).find((r) => r.corp_key === 'wwb');
    expect(stored?.qualification_status).toBe(1);
    const result = await sync([
      { corp: joined('wwa', { corpName: '新名' }), detail: null },
      { corp: joined('wwb', { groupid: 3 }), detail: unknown },
      { corp: joined('wwc'), detail: null },
      { corp: pending('wpc'), detail: null },
    ]);
    expect(result.chain_corps).toEqual({ inserted: 0, updated: 0, unchanged: 4, removed: 0 });
    expect((await corpRows()).find((r) => r.corp_key === 'wwb')).toMatchObject({
      qualification_status: 1,
      changed_run_id: stored?.changed_run_id,
    });
  });

  it('marks removed groups and renames the chain', async () => {
    const result = await sync([{ corp: joined('wwa', { corpName: '新名' }), detail: null }], [groups[0]!], {
      ...CHAIN,
      chainName: '新供应链',
    });
    expect(result.chains.updated).toBe(1);
    expect(result.chain_groups).toEqual({ inserted: 0, updated: 0, unchanged: 1, removed: 1 });
    const { rows } = await db.pool.query(
      'select groupid, removed_at is not null as removed, sort_order from wecom.chain_groups order by groupid',
    );
    expect(rows).toEqual([
      { groupid: 2, removed: false, sort_order: 4_294_967_295 },
      { groupid: 3, removed: true, sort_order: 1 },
    ]);
    const chain = (await db.pool.query('select chain_name, last_run_id from wecom.chains')).rows[0];
    expect(chain).toEqual({ chain_name: '新供应链', last_run_id: run });
  });

  it('changes nothing when the stage is closed without a commit', async () => {
    const before = await corpRows();
    const stage = await ChainStage.open(db.database, UP, CHAIN.chainId);
    // With details, so it is staged in the table, not held in memory.
    await stage.add([{ corp: joined('wwz'), detail: detail(1) }]);
    await stage.missing(1);
    await stage.close();
    expect(await corpRows()).toEqual(before);
    // The pooled connection's stage is empty for the next chain.
    const next = await ChainStage.open(db.database, UP, 'other');
    try {
      await next.add([{ corp: joined('wwo'), detail: detail(1) }]);
      const counts = await next.commit({ chainId: 'other', chainName: 'o' }, [], run);
      expect(counts.chain_corps).toEqual({ inserted: 1, updated: 0, unchanged: 0, removed: 0 });
    } finally {
      await next.close();
    }
  });

  it('empties a stage that a pooled connection kept rows in, before a chain is staged on it', async () => {
    // A stage left with a row: no chain's close truncated it (ChainStage always does, or discards the connection).
    const left = await db.database.session();
    await left.query(q.CREATE_STAGE);
    await left.copyFrom(q.STAGE_COLUMNS, [
      encodeStageRow({ corp: joined('wwleft'), detail: null, listing: 0, seq: 1 }),
    ]);
    left.release();
    // The pool gives the connection released last.
    const stage = await ChainStage.open(db.database, UP, 'ch-left');
    try {
      await stage.add([{ corp: joined('wwmine'), detail: detail(1) }]);
      const counts = await stage.commit({ chainId: 'ch-left', chainName: 'l' }, [], run);
      expect(counts.chain_corps).toEqual({ inserted: 1, updated: 0, unchanged: 0, removed: 0 });
    } finally {
      await stage.close();
    }
    const { rows } = await db.pool.query(`select corp_key from wecom.chain_corps where chain_id = 'ch-left'`);
    expect(rows).toEqual([{ corp_key: 'wwmine' }]);
  });

  it("removes an unlisted corp whose xmin is the merge's own transaction id", async () => {
    await sync([
      { corp: joined('wwx'), detail: null },
      { corp: joined('wwy'), detail: null },
    ]);
    // Stands in for a frozen row whose xmin a transaction 2^32 ids later repeats (the id wraps around): the
    // row carries the merge transaction's xmin, yet the merge did not write it and nothing listed it.
    const touching = intercepted(db.database, async (session, text, params) => {
      if (text === q.REMOVE_CORPS) {
        await session.query(`update wecom.chain_corps set removed_at = null where corp_key = 'wwy'`);
      }
      return session.query(text, params);
    });
    const stage = await ChainStage.open(touching, UP, CHAIN.chainId);
    try {
      await stage.add([{ corp: joined('wwx'), detail: null }]);
      expect((await stage.commit(CHAIN, groups, run)).chain_corps.removed).toBe(1);
    } finally {
      await stage.close();
    }
    expect((await corpRows()).find((r) => r.corp_key === 'wwy')?.removed).toBe(true);
  });

  it('merges nothing for a run no longer running: another sync took its lock over', async () => {
    await sync([{ corp: joined('wwa'), detail: detail(2) }]);
    const before = await corpRows();
    // What the taking over does to the run of a holder it found dead (run-lock.ts, abortStaleRuns).
    await db.pool.query(`update wecom.sync_runs set status = 'aborted' where id = $1`, [run]);
    await expect(sync([{ corp: joined('wwa'), detail: detail(3) }])).rejects.toThrow(
      `run ${run} is aborted, no longer running: another sync has taken over, so nothing was merged`,
    );
    expect(await corpRows()).toEqual(before);
  });

  it("reads the run's status once it holds the chain's row, so a takeover meanwhile is seen", async () => {
    const before = await corpRows();
    // Another transaction holds the chain's row (the new holder's merge, say) while the run is taken over.
    const blocker = await db.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query(`select 1 from wecom.chains where chain_id = $1 for update`, [CHAIN.chainId]);
      const merging = sync([{ corp: joined('wwa'), detail: detail(1) }]).then(
        () => 'merged',
        (err: Error) => err.message,
      );
      await vi.waitFor(
        async () => {
          const { rows } = await db.pool.query(
            `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
             where l.locktype = 'transactionid' and not l.granted and a.datname = current_database()`,
          );
          expect(rows[0].n).toBe(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      await blocker.query(`update wecom.sync_runs set status = 'aborted' where id = $1`, [run]);
      await blocker.query('commit');
      expect(await merging).toContain(`run ${run} is aborted, no longer running`);
    } finally {
      blocker.release();
    }
    expect(await corpRows()).toEqual(before);
  });

  it('stores a corp listed twice in a first load as its last record says, its first version too', async () => {
    const chain = { chainId: 'first-twice', chainName: 'f' };
    // Listed in group 2, then on a later page, after it moved, in group 3.
    await sync(
      [
        { corp: joined('wwtwice', { groupid: 2 }), detail: null },
        { corp: joined('wwtwice', { groupid: 3 }), detail: null },
      ],
      groups,
      chain,
    );
    const { rows } = await db.pool.query(
      `select c.groupid, h.groupid as history_groupid from wecom.chain_corps c
       join wecom.chain_corp_history h using (upstream_corpid, chain_id, corp_key)
       where c.chain_id = 'first-twice'`,
    );
    expect(rows).toEqual([{ groupid: 3, history_groupid: 3 }]);
  });

  it("takes a twice-listed corp's details from its last record: refused before, fetched there, not due again", async () => {
    const chain = { chainId: 'details-twice', chainName: 'd' };
    await sync([{ corp: joined('wwd'), detail: detail(1) }], groups, chain);
    const counts = await sync(
      [
        { corp: joined('wwd'), detail: 'failed' },
        { corp: joined('wwd'), detail: detail(2) },
      ],
      groups,
      chain,
    );
    const { rows } = await db.pool.query(
      `select qualification_status, details_fetched_at is not null as fresh from wecom.chain_corps
       where chain_id = 'details-twice'`,
    );
    expect(rows).toEqual([{ qualification_status: 2, fresh: true }]);
    expect(counts.chain_corps.updated).toBe(1);
  });
});

describe('ChainStage history statements', () => {
  let db: TestDatabase;
  let run = 0;
  beforeAll(async () => {
    db = await createTestDatabase();
    run = await startRun(db.database.orm, UP);
  });
  afterAll(() => db.drop());

  it('writes history statements only for what the merge changed', async () => {
    // The stage's statements, seen through a database whose sessions report what they run.
    const ran: string[] = [];
    const spied = intercepted(db.database, (session, text, params) => {
      ran.push(text);
      return session.query(text, params);
    });
    const syncSpied = async (corps: StagedCorp[]) => {
      ran.length = 0;
      const stage = await ChainStage.open(spied, UP, 'ch-history');
      try {
        await stage.add(corps);
        await stage.commit({ chainId: 'ch-history', chainName: 'h' }, groups, run);
      } finally {
        await stage.close();
      }
      return {
        groups: GROUP_HISTORY.filter((h) => ran.includes(h)),
        corps: [q.FIRST_CORPS, ...CORP_HISTORY].filter((h) => ran.includes(h)),
      };
    };
    const corps = [{ corp: joined('wwh1'), detail: null }];
    // A chain's first corps and their versions are one statement.
    expect(await syncSpied(corps)).toEqual({ groups: GROUP_HISTORY, corps: [q.FIRST_CORPS] });
    expect(await syncSpied(corps)).toEqual({ groups: [], corps: [] });
    expect(await syncSpied([{ corp: joined('wwh1', { corpName: '改名' }), detail: null }])).toEqual({
      groups: [],
      corps: CORP_HISTORY,
    });
    expect(await syncSpied([])).toEqual({ groups: [], corps: CORP_HISTORY });
    // Its corps all removed, the chain is no first load again: what comes back may continue their entities.
    expect(await syncSpied(corps)).toEqual({ groups: [], corps: CORP_HISTORY });
  });
});

describe('ChainStage plans', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  interface PlanNode {
    'Node Type': string;
    Plans?: PlanNode[];
  }
  const nodeTypes = (n: PlanNode): string[] => [n['Node Type'], ...(n.Plans ?? []).flatMap(nodeTypes)];

  it('joins without nested loops or JIT when every corp changed, whatever the statistics say', async () => {
    const { rows: jit } = await db.pool.query('select pg_jit_available() as available');
    expect(jit[0].available, 'this test needs a server built with JIT (LLVM)').toBe(true);
    // Each statement of the merge transaction is explained first, on the same session and with the same
    // parameters, so the plan is the one the merge itself gets. The session would JIT-compile any
    // statement (jit_above_cost 0): only the merge's own settings can keep a JIT section out of the plan.
    const plans = new Map<string, { nodes: string[]; jit: boolean }>();
    const explaining = intercepted(db.database, async (session, text, params) => {
      if (params && /^\s*(with|insert|update)\b/.test(text)) {
        await session.query('set jit_above_cost = 0');
        const { rows } = await session.query(`explain (format json) ${text}`, params);
        const [plan] = rows[0]['QUERY PLAN'];
        plans.set(text, { nodes: nodeTypes(plan.Plan), jit: 'JIT' in plan });
      }
      return session.query(text, params);
    });
    const merge = async (rename: string) => {
      const runId = await startRun(db.database.orm, UP);
      const stage = await ChainStage.open(explaining, UP, 'ch-plans');
      try {
        await stage.add(
          Array.from({ length: 500 }, (_, i) => ({
            corp: joined(`wwp${i}`, { corpName: `${rename}${i}` }),
            detail: null,
          })),
        );
        return await stage.commit({ chainId: 'ch-plans', chainName: 'p' }, groups, runId);
      } finally {
        await stage.close();
      }
    };
    await merge('甲');
    // Fresh statistics know every stored run id, and none of the next run's: it looks as if nothing changed.
    await db.pool.query('analyze');
    plans.clear();
    const counts = await merge('乙');
    expect(counts.chain_corps.updated).toBe(500);
    for (const sql of [q.MERGE_CORPS, ...CORP_HISTORY]) {
      const plan = plans.get(sql);
      expect(plan, sql).toBeDefined();
      expect(plan?.nodes, sql).not.toContain('Nested Loop');
      expect(plan?.jit, sql).toBe(false);
    }
  });
});

describe.each(DRIVERS)('ChainStage on %s, after a merge fails', (driver) => {
  it('leaves the connection usable: the failed transaction is rolled back, not left open', async () => {
    const db = await createDriverDatabase(driver);
    try {
      const runId = await startRun(db.database.orm, UP);
      const stage = await ChainStage.open(db.database, UP, 'ch-fails');
      // PostgreSQL refuses a NUL character in text: the merge fails inside its transaction.
      const bad: Group[] = [{ groupid: 2, groupName: 'a\u0000b', parentid: 1, order: 0 }];
      try {
        await stage.add([{ corp: joined('wwf'), detail: null }]);
        await expect(stage.commit({ chainId: 'ch-fails', chainName: 'f' }, bad, runId)).rejects.toThrow();
      } finally {
        await stage.close();
      }
      // PGlite has one connection for everything: an aborted transaction left on it fails every later query.
      const after = await db.query('select count(*)::int as n from wecom.chain_corps');
      expect(after.rows[0].n).toBe(0);
      const next = await ChainStage.open(db.database, UP, 'ch-next');
      try {
        await next.add([{ corp: joined('wwn'), detail: null }]);
        const counts = await next.commit({ chainId: 'ch-next', chainName: 'n' }, groups, runId);
        expect(counts.chain_corps.inserted).toBe(1);
      } finally {
        await next.close();
      }
    } finally {
      await db.drop();
    }
  });
});
