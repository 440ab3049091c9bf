// The whole job against the simulator over real HTTP and a real Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { FLUSH_WRITE_COUNTERS } from '../../src/db/statistics.ts';
import { SimNetwork, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import type { ChainApi } from '../../src/sync/api.ts';
import type { WecomClient } from '../../src/wecom/client.ts';
import { createDriverDatabase, DRIVERS, type TestDb } from '../helpers/db.ts';
import {
  CORP_ID,
  expectedSnapshot,
  rowVersions,
  SECRET,
  storedSnapshot,
  syncAgainst,
} from '../helpers/simulated.ts';

// The same test bodies on a Postgres server and on the embedded PGlite.
describe.each(DRIVERS)('sync against the simulator on %s', (driver) => {
  let db: TestDb;
  let sim: Simulator;
  const network = SimNetwork.generate({
    seed: 42,
    chains: 3,
    groups: 45,
    corps: 2_000,
    pendingRatio: 0.2,
    maxDepth: 6,
  });
  const chainIds = [...network.chains.keys()];
  const chain = (i: number) => network.chains.get(chainIds[i]!)!;
  const keysOf = (i: number, joined: boolean) =>
    [...chain(i).corps.entries()].filter(([, c]) => (c.corpid !== null) === joined).map(([k]) => k);

  beforeAll(async () => {
    db = await createDriverDatabase(driver);
    // Pages shorter than asked for (40): the crawler must trust has_more, not the page size.
    sim = await startSimulator({
      network,
      corpId: CORP_ID,
      corpSecret: SECRET,
      maxPageSize: 25,
      rateLimitBlockMs: 100,
    });
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('stores exactly what the simulator holds, every field', async () => {
    const outcome = await syncAgainst(sim, db.database);
    expect(outcome.status).toBe('succeeded');
    const expected = expectedSnapshot(network);
    expect(await storedSnapshot(db)).toEqual(expected);
    expect(outcome.stats.rows.chain_corps).toEqual({ inserted: 2_000, updated: 0, unchanged: 0, removed: 0 });
    expect(outcome.stats.rows.chain_groups.inserted).toBe(expected.groups.length);
    expect(outcome.stats.details_fetched).toBe(expected.corps.filter((c) => c.is_joined).length);
    const run = (
      await db.query('select status, finished_at, stats from wecom.sync_runs where id = $1', [outcome.runId])
    ).rows[0];
    expect(run.status).toBe('succeeded');
    expect(run.finished_at).not.toBeNull();
    expect(run.stats.api.calls.get_chain_corpinfo).toBe(outcome.stats.details_fetched);
    // The run analysed what it loaded (ANALYZE sets pg_class.reltuples; -1 is never analysed), so the
    // dashboards' queries are not planned on defaults.
    const analysed = await db.query(
      `select relname, reltuples::int as n from pg_class
       where relnamespace = 'wecom'::regnamespace and relname in ('chain_corps', 'chain_corp_history') order by 1`,
    );
    expect(analysed.rows).toEqual([
      { relname: 'chain_corp_history', n: 2_000 },
      { relname: 'chain_corps', n: 2_000 },
    ]);
  });

  it('re-runs without rewriting a row and with far fewer calls', async () => {
    const before = (await rowVersions(db)).filter((v) => !v.startsWith('chains:'));
    // The first run's ANALYZE saw every write of its merges, so this run finds nothing to analyse.
    const analyses = async () =>
      (
        await db.query(
          `select sum(analyze_count)::int as n from pg_stat_user_tables where schemaname = 'wecom'`,
        )
      ).rows[0].n;
    const analysedBefore = await analyses();
    sim.resetCalls();
    const outcome = await syncAgainst(sim, db.database);
    expect(await analyses()).toBe(analysedBefore);
    expect(outcome.status).toBe('succeeded');
    expect((await rowVersions(db)).filter((v) => !v.startsWith('chains:'))).toEqual(before);
    expect(outcome.stats.rows.chain_corps).toEqual({ inserted: 0, updated: 0, unchanged: 2_000, removed: 0 });
    expect(sim.calls.get_chain_corpinfo).toBe(0);
    expect(sim.calls.get_chain_corpinfo_list).toBeGreaterThan(0);
  });

  it('follows renames, moves, joins, removals and additions, and marks what disappeared', async () => {
    const [renamed, moved, removed] = keysOf(0, true);
    const [joining] = keysOf(0, false);
    const groupIds = [...chain(1).groups.keys()];
    const leafGroup = groupIds.find((g) => ![...chain(1).groups.values()].some((x) => x.parentid === g))!;
    network.renameCorp(chainIds[0]!, renamed!, '杭州新名字科技有限公司');
    network.moveCorp(chainIds[0]!, moved!, [...chain(0).groups.keys()].at(-1)!);
    const joinedKey = network.joinCorp(chainIds[0]!, joining!, 'wwjoinedcorp0001');
    network.removeCorp(chainIds[0]!, removed!);
    network.renameGroup(chainIds[1]!, groupIds[0]!, '华东大区');
    network.removeGroup(chainIds[1]!, leafGroup);
    network.renameChain(chainIds[1]!, '新能源供应链');
    network.removeChain(chainIds[2]!);

    const outcome = await syncAgainst(sim, db.database);
    expect(outcome.status).toBe('succeeded');
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));

    const removedRows = await db.query(
      `select chain_id, corp_key from wecom.chain_corps where removed_at is not null and chain_id <> $1 order by 1, 2`,
      [chainIds[2]],
    );
    const removedKeys = removedRows.rows.map((r) => r.corp_key);
    expect(removedKeys).toContain(removed);
    expect(removedKeys).toContain(joining);
    expect(removedKeys).not.toContain(joinedKey);
    const gone = await db.query(
      `select (select removed_at is not null from wecom.chains where chain_id = $1) as chain,
              (select bool_and(removed_at is not null) from wecom.chain_groups where chain_id = $1) as groups,
              (select bool_and(removed_at is not null) from wecom.chain_corps where chain_id = $1) as corps,
              (select removed_at is not null from wecom.chain_groups where chain_id = $2 and groupid = $3) as leaf`,
      [chainIds[2], chainIds[1], leafGroup],
    );
    expect(gone.rows[0]).toEqual({ chain: true, groups: true, corps: true, leaf: true });
    // The removed chain's corps are over the analysis threshold, and the run's closing ANALYZE saw them.
    const unanalysed = await db.query(
      `select n_mod_since_analyze::int as n from pg_stat_user_tables
       where schemaname = 'wecom' and relname = 'chain_corps'`,
    );
    expect(unanalysed.rows).toEqual([{ n: 0 }]);
  });

  it('clears removed_at for what comes back', async () => {
    const [key] = keysOf(0, true);
    const corp = chain(0).corps.get(key!)!;
    network.removeCorp(chainIds[0]!, key!);
    await syncAgainst(sim, db.database);
    network.addCorp(chainIds[0]!, corp);
    const outcome = await syncAgainst(sim, db.database);
    expect(outcome.stats.rows.chain_corps.updated).toBe(1);
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('lets old run records be pruned while the rows they changed keep their run ids', async () => {
    const latest = (await db.query('select max(id)::int as id from wecom.sync_runs')).rows[0].id;
    const pruned = await db.query('delete from wecom.sync_runs where id < $1', [latest]);
    expect(pruned.rowCount).toBeGreaterThan(0);
    const [key] = keysOf(0, true);
    network.renameCorp(chainIds[0]!, key!, '苏州剪枝之后科技有限公司');
    const outcome = await syncAgainst(sim, db.database);
    expect(outcome.status).toBe('succeeded');
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
    const dangling = await db.query(
      `select count(*)::int as n from wecom.chain_corps c
       where not exists (select 1 from wecom.sync_runs r where r.id = c.changed_run_id)`,
    );
    expect(dangling.rows[0].n).toBeGreaterThan(0);
  });

  it('analyses what an earlier run merged but never analysed, even if this run fails at once', async () => {
    // As if a run had been killed after its merges: writes the server counted, and no ANALYZE since.
    const session = await db.database.session();
    await session.query('update wecom.chain_corps set custom_id = custom_id');
    await session.query(FLUSH_WRITE_COUNTERS);
    session.release();
    const ran: string[] = [];
    const record = (queryable: Pick<Database, 'query'>) => (text: string, params?: unknown[]) => {
      ran.push(text);
      return queryable.query(text, params);
    };
    const recording: Database = Object.create(db.database, {
      query: { value: record(db.database) },
      session: {
        value: async () => {
          const opened = await db.database.session();
          return { ...opened, query: record(opened) };
        },
      },
    });
    // A failed run merges nothing and never reaches the analysis that ends a successful one.
    sim.faults.inject({ endpoint: 'get_chain_list', count: Infinity, fault: { errcode: 60011 } });
    const outcome = await syncAgainst(sim, recording);
    sim.faults.clear();
    expect(outcome.status).toBe('failed');
    expect(ran).toContain('analyze wecom.chain_corps');
  });

  it('stays exact through revoked tokens, 45009 and -1 bursts, 502s, drops and timeouts', async () => {
    for (const key of keysOf(0, true).slice(0, 20)) network.setQualification(chainIds[0]!, key, 3);
    sim.faults.inject({ endpoint: 'get_chain_corpinfo', count: 4, fault: { errcode: -1 } });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo_list', count: 3, fault: { errcode: 45009 } });
    sim.faults.inject({ endpoint: 'get_chain_group', count: 2, fault: { httpStatus: 502 } });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo_list', count: 2, fault: { drop: true } });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo', count: 2, fault: { errcode: 45033 } });
    sim.faults.inject({ endpoint: 'get_chain_corpinfo', count: 1, fault: { delayMs: 1_500 } });
    let details = 0;
    const revokeMidRun = (client: WecomClient): ChainApi & { stats: WecomClient['stats'] } => ({
      getChainList: () => client.getChainList(),
      getChainGroups: (id) => client.getChainGroups(id),
      listCorps: (req, signal) => client.listCorps(req, signal),
      getCorpInfo: (req, signal) => {
        if (++details === 50) sim.revokeTokens();
        return client.getCorpInfo(req, signal);
      },
      stats: () => client.stats(),
    });
    const outcome = await syncAgainst(sim, db.database, {
      client: { timeoutMs: 500 },
      sync: { detailsMaxAgeHours: 0 },
      wrap: revokeMidRun,
    });
    expect(outcome.stats.failures).toEqual([]);
    expect(outcome.status).toBe('succeeded');
    expect(sim.faults.pending()).toBe(0);
    expect(outcome.stats.api.tokenRefreshes).toBeGreaterThanOrEqual(1);
    expect(Object.values(outcome.stats.api.retries).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(12);
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('leaves a chain that cannot be completed untouched and ends partial', async () => {
    const [a, b] = [chainIds[0]!, chainIds[1]!];
    network.renameCorp(a, keysOf(0, true)[0]!, '不应写入的名字');
    network.renameCorp(b, keysOf(1, true)[0]!, '应写入的名字');
    const versionsOfA = async () => (await rowVersions(db)).filter((v) => v.includes(`:${a}`));
    const before = await versionsOfA();
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo_list',
      count: Infinity,
      match: { chainId: a },
      fault: { errcode: 60011 },
    });
    const outcome = await syncAgainst(sim, db.database);
    sim.faults.clear();
    expect(outcome.status).toBe('partial');
    expect(outcome.stats.failures).toHaveLength(1);
    expect(outcome.stats.failures[0]).toMatchObject({ chain_id: a });
    expect(outcome.stats.failures[0]!.error).toContain('60011');
    expect(await versionsOfA()).toEqual(before);
    const names = await db.query(
      `select corp_name from wecom.chain_corps where corp_name in ('不应写入的名字', '应写入的名字')`,
    );
    expect(names.rows).toEqual([{ corp_name: '应写入的名字' }]);
    const run = (await db.query('select status, error from wecom.sync_runs where id = $1', [outcome.runId]))
      .rows[0];
    expect(run.status).toBe('partial');
    expect(run.error).toContain(a);

    const next = await syncAgainst(sim, db.database);
    expect(next.status).toBe('succeeded');
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('stops the calls a failed chain still has going, without waiting for their answers', async () => {
    const a = chainIds[0]!;
    const slow = keysOf(0, true)[0]!;
    const failing = [...chain(0).groups.keys()].find((g) => g !== chain(0).corps.get(slow)!.groupid)!;
    // The slow corp's details would take ten minutes, well past the test's timeout; the client would wait.
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo',
      count: 1,
      match: { chainId: a, corpid: slow },
      fault: { delayMs: 600_000 },
    });
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo_list',
      count: Infinity,
      match: { chainId: a, groupid: failing },
      fault: { errcode: 60011 },
    });
    // The failing listing goes out only once the slow call has been asked for, so the chain fails while
    // that call is still out.
    const slowAsked = Promise.withResolvers<void>();
    let slowOutcome: unknown;
    const failAfterSlow = (client: WecomClient): ChainApi & { stats: WecomClient['stats'] } => ({
      getChainList: () => client.getChainList(),
      getChainGroups: (id) => client.getChainGroups(id),
      listCorps: async (req, signal) => {
        if (req.chainId === a && req.groupid === failing) await slowAsked.promise;
        return client.listCorps(req, signal);
      },
      getCorpInfo: (req, signal) => {
        const call = client.getCorpInfo(req, signal);
        if (!('corpid' in req) || req.corpid !== slow) return call;
        slowAsked.resolve();
        return call.catch((err: unknown) => {
          slowOutcome = err;
          throw err;
        });
      },
      stats: () => client.stats(),
    });
    const outcome = await syncAgainst(sim, db.database, {
      client: { timeoutMs: 600_000 },
      sync: { detailsMaxAgeHours: 0 },
      wrap: failAfterSlow,
    });
    sim.faults.clear();
    expect(outcome.status).toBe('partial');
    expect(outcome.stats.failures).toEqual([expect.objectContaining({ chain_id: a })]);
    expect(outcome.stats.failures[0]!.error).toContain('60011');
    expect(slowOutcome).toMatchObject({ name: 'AbortError' });
  });

  it('stores a corp whose details call fails for it alone (it left meanwhile) as listed, and the chain', async () => {
    const b = chainIds[1]!;
    const [gone, kept] = keysOf(1, true).slice(5, 7) as [string, string];
    const stored = async (key: string) =>
      (
        await db.query(
          `select corp_name, qualification_status, details_fetched_at, removed_at is not null as removed
           from wecom.chain_corps where chain_id = $1 and corp_key = $2`,
          [b, key],
        )
      ).rows[0];
    const before = await stored(gone);
    for (const key of [gone, kept]) {
      network.renameCorp(b, key, `${key} 新名`);
      network.setQualification(b, key, before.qualification_status === 3 ? 2 : 3);
    }
    // Listed, then gone from the chain before its details are asked for: WeCom answers an error for it.
    const leaveBeforeDetails = (client: WecomClient): ChainApi & { stats: WecomClient['stats'] } => ({
      getChainList: () => client.getChainList(),
      getChainGroups: (id) => client.getChainGroups(id),
      listCorps: (req, signal) => client.listCorps(req, signal),
      getCorpInfo: (req, signal) => {
        if ('corpid' in req && req.corpid === gone) network.removeCorp(b, gone);
        return client.getCorpInfo(req, signal);
      },
      stats: () => client.stats(),
    });
    const outcome = await syncAgainst(sim, db.database, { wrap: leaveBeforeDetails });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.stats.failures).toEqual([]);
    expect(outcome.stats.details_failed).toBe(1);
    // Listed, so stored as listed; its stored details kept, and due again (the next run would ask).
    expect(await stored(gone)).toEqual({ ...before, corp_name: `${gone} 新名`, details_fetched_at: null });
    expect(await stored(kept)).toMatchObject({
      corp_name: `${kept} 新名`,
      qualification_status: network.corp(b, kept).qualificationStatus,
    });

    const next = await syncAgainst(sim, db.database);
    expect(next.status).toBe('succeeded');
    expect(next.stats.details_failed).toBe(0);
    expect(await stored(gone)).toMatchObject({ removed: true });
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it.each([
    ['refused with a code WeCom does not document', { errcode: 301002 }, 9],
    ['answered in a shape that does not fit', { malformed: 'schema' } as const, 10],
  ])('asks again next run for details %s for one corp, whatever made them due', async (_name, fault, nth) => {
    const b = chainIds[1]!;
    const key = keysOf(1, true)[nth]!;
    const stored = async () =>
      (
        await db.query(
          `select corp_name, qualification_status, details_fetched_at from wecom.chain_corps
           where chain_id = $1 and corp_key = $2`,
          [b, key],
        )
      ).rows[0];
    const before = await stored();
    const status = before.qualification_status === 3 ? 2 : 3;
    network.renameCorp(b, key, `${key} 改`);
    network.setQualification(b, key, status);
    // Due because renamed; WeCom fails its details once.
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo',
      count: 1,
      match: { chainId: b, corpid: key },
      fault,
    });
    const refused = await syncAgainst(sim, db.database);
    expect(refused.status).toBe('succeeded');
    expect(refused.stats.details_failed).toBe(1);
    expect(await stored()).toEqual({
      corp_name: `${key} 改`,
      qualification_status: before.qualification_status,
      details_fetched_at: null,
    });

    const next = await syncAgainst(sim, db.database);
    expect(next.stats.api.calls.get_chain_corpinfo).toBe(1);
    expect(await stored()).toMatchObject({ corp_name: `${key} 改`, qualification_status: status });
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('never fails a chain for refused details, however many: its listing is stored, its details due again', async () => {
    const b = chainIds[1]!;
    const due = keysOf(1, true).slice(0, 30);
    const rename = (keys: string[], suffix: string) => {
      for (const key of keys) network.renameCorp(b, key, `${key} ${suffix}`);
    };
    // A few refusals among many answers: corps that left, say.
    rename(due, '甲');
    for (const corpid of due.slice(0, 5)) {
      sim.faults.inject({
        endpoint: 'get_chain_corpinfo',
        count: Infinity,
        match: { chainId: b, corpid },
        fault: { errcode: 48001 },
      });
    }
    const few = await syncAgainst(sim, db.database);
    sim.faults.clear();
    expect(few.status).toBe('succeeded');
    expect(few.stats.details_failed).toBe(5);

    // Every one refused (the five refused before, due again, three of them renamed once more), run after
    // run: the renames are stored all the same, and the details stay due.
    rename(due.slice(0, 3), '乙');
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo',
      count: Infinity,
      match: { chainId: b },
      fault: { errcode: 48001 },
    });
    for (let run = 0; run < 2; run++) {
      const all = await syncAgainst(sim, db.database);
      expect(all.status).toBe('succeeded');
      expect(all.stats.details_failed).toBe(5);
    }
    sim.faults.clear();
    const { rows } = await db.query(
      `select count(*)::int as n from wecom.chain_corps
       where chain_id = $1 and corp_name like '% 乙' and details_fetched_at is null`,
      [b],
    );
    expect(rows[0].n).toBe(3);
    expect((await syncAgainst(sim, db.database)).stats.api.calls.get_chain_corpinfo).toBe(5);
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('keeps a corp that moved between groups while they were listed, missed by both listings', async () => {
    const a = chainIds[0]!;
    const moved = keysOf(0, true)[3]!;
    const from = network.corp(a, moved).groupid;
    const to = [...chain(0).groups.keys()].find((g) => g !== from)!;
    // `to` is listed to its end first; then the corp moves there from `from`, which is listed only after.
    const toListed = Promise.withResolvers<void>();
    const moveWhileListing = (client: WecomClient): ChainApi & { stats: WecomClient['stats'] } => ({
      getChainList: () => client.getChainList(),
      getChainGroups: (id) => client.getChainGroups(id),
      listCorps: async (req, signal) => {
        const mine = req.chainId === a;
        if (mine && req.groupid === from && req.cursor === '') {
          await toListed.promise;
          network.moveCorp(a, moved, to);
        }
        const page = await client.listCorps(req, signal);
        if (mine && req.groupid === to && !page.hasMore) toListed.resolve();
        return page;
      },
      getCorpInfo: (req, signal) => client.getCorpInfo(req, signal),
      stats: () => client.stats(),
    });
    const outcome = await syncAgainst(sim, db.database, { wrap: moveWhileListing });
    expect(outcome.status).toBe('succeeded');
    expect(outcome.stats).toMatchObject({ missing_rechecked: 1, missing_found: 1 });
    expect(outcome.stats.rows.chain_corps.removed).toBe(0);
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
    const events = await db.query(
      `select event_type, old_groupid, new_groupid from wecom.chain_corp_events where corp_key = $1 and run_id = $2`,
      [moved, outcome.runId],
    );
    expect(events.rows).toEqual([{ event_type: 'moved', old_groupid: from, new_groupid: to }]);
  });

  it('keeps a missing corp as stored while its recheck is answered in a shape that does not fit, and syncs the rest', async () => {
    const c = chainIds[1]!;
    const [gone, renamed] = keysOf(1, true).slice(50, 52) as [string, string];
    const stored = async (key: string) =>
      (
        await db.query(
          `select corp_name, groupid, details_fetched_at is not null as fetched, removed_at is not null as removed
           from wecom.chain_corps where chain_id = $1 and corp_key = $2`,
          [c, key],
        )
      ).rows[0];
    const before = await stored(gone);
    network.removeCorp(c, gone);
    network.renameCorp(c, renamed, `${renamed} 新`);
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo',
      count: 1,
      match: { chainId: c, corpid: gone },
      fault: { malformed: 'schema' },
    });
    const outcome = await syncAgainst(sim, db.database);
    expect(outcome.status).toBe('succeeded');
    expect(outcome.stats).toMatchObject({ missing_rechecked: 1, missing_found: 0, details_failed: 1 });
    // Neither confirmed nor denied: kept as it was, to be asked about again, its details due again; the
    // chain's other changes land.
    expect(before.fetched).toBe(true);
    expect(await stored(gone)).toEqual({ ...before, fetched: false });
    expect(await stored(renamed)).toMatchObject({ corp_name: `${renamed} 新` });

    const next = await syncAgainst(sim, db.database);
    expect(next.stats).toMatchObject({ missing_rechecked: 1, missing_found: 0 });
    expect(await stored(gone)).toMatchObject({ removed: true });
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('stops asking about missing corps once one of those calls has failed the chain', async () => {
    const c = chainIds[0]!;
    const [busy, slow] = keysOf(0, true).slice(10, 12) as [string, string];
    for (const key of [busy, slow]) network.removeCorp(c, key);
    // WeCom stays busy for one (the chain fails once its retries run out); the other would answer in ten
    // minutes, past the test's timeout: the run must not wait for it.
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo',
      count: Infinity,
      match: { chainId: c, corpid: busy },
      fault: { errcode: -1 },
    });
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo',
      count: 1,
      match: { chainId: c, corpid: slow },
      fault: { delayMs: 600_000 },
    });
    const outcome = await syncAgainst(sim, db.database, { client: { timeoutMs: 600_000 } });
    sim.faults.clear();
    expect(outcome.status).toBe('partial');
    expect(outcome.stats.failures).toEqual([expect.objectContaining({ chain_id: c })]);
    expect(outcome.stats.failures[0]!.error).toContain('errcode -1');
    const next = await syncAgainst(sim, db.database);
    expect(next.status).toBe('succeeded');
    expect(next.stats).toMatchObject({ missing_rechecked: 2, missing_found: 0 });
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });

  it('refuses a response that does not fit the schema, naming the endpoint and field', async () => {
    network.renameCorp(chainIds[1]!, keysOf(1, true)[1]!, '又一个名字');
    sim.faults.inject({
      endpoint: 'get_chain_corpinfo_list',
      count: 1,
      match: { chainId: chainIds[1]! },
      fault: { malformed: 'schema' },
    });
    const outcome = await syncAgainst(sim, db.database);
    expect(outcome.status).toBe('partial');
    expect(outcome.stats.failures[0]!.error).toMatch(
      /get_chain_corpinfo_list: invalid response at group_corps\[\d+\]\.\w+/,
    );
    const stored = await db.query(
      `select count(*)::int as n from wecom.chain_corps where corp_name = '又一个名字'`,
    );
    expect(stored.rows[0].n).toBe(0);
  });

  it('never writes the secret or a token to the database', async () => {
    const { rows } = await db.query(`select stats::text || coalesce(error, '') as t from wecom.sync_runs`);
    for (const r of rows) expect(r.t).not.toContain(SECRET);
  });
});

// More corps missing than the recheck's cap is a mass removal, which the listing is trusted with (README).
describe('the recheck of missing corps, at its cap', () => {
  let db: TestDb;
  let sim: Simulator;
  const network = SimNetwork.generate({
    seed: 7,
    chains: 1,
    groups: 4,
    corps: 2_100,
    pendingRatio: 0,
    maxDepth: 2,
  });
  const [chainId] = [...network.chains.keys()] as [string];
  const remove = (n: number) => {
    for (const key of [...network.chains.get(chainId)!.corps.keys()].slice(0, n))
      network.removeCorp(chainId, key);
  };

  beforeAll(async () => {
    db = await createDriverDatabase('postgres');
    sim = await startSimulator({ network, corpId: CORP_ID, corpSecret: SECRET, rateLimitPerMin: 1e7 });
    expect((await syncAgainst(sim, db.database)).status).toBe('succeeded');
  });
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('asks about each of 1,000 missing corps, and about none of 1,001', async () => {
    remove(1_000);
    const asked = await syncAgainst(sim, db.database);
    expect(asked.stats).toMatchObject({ missing_rechecked: 1_000, missing_found: 0 });
    expect(asked.stats.api.calls.get_chain_corpinfo).toBe(1_000);
    expect(asked.stats.rows.chain_corps.removed).toBe(1_000);

    remove(1_001);
    const trusted = await syncAgainst(sim, db.database);
    expect(trusted.stats).toMatchObject({ missing_rechecked: 0, missing_found: 0 });
    expect(trusted.stats.api.calls.get_chain_corpinfo ?? 0).toBe(0);
    expect(trusted.stats.rows.chain_corps.removed).toBe(1_001);
    expect(await storedSnapshot(db)).toEqual(expectedSnapshot(network));
  });
});
