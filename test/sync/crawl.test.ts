import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GroupSlots } from '../../src/sync/group-slots.ts';
import { type RunOutcome, runSync } from '../../src/sync/run.ts';
import { WecomApiError, WecomRefusedError } from '../../src/wecom/errors.ts';
import { corpKey, MAX_STORED_ID_BYTES } from '../../src/wecom/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { corpsFor, FakeApi, type FakeChain } from '../helpers/fake-api.ts';

const UP = 'wwup';

function network(): FakeChain[] {
  return ['a', 'b'].map((id) => ({
    chain: { chainId: id, chainName: `链${id}` },
    groups: [
      { groupid: 2, groupName: '一级', parentid: 1, order: 1 },
      { groupid: 3, groupName: '二级', parentid: 2, order: 2 },
    ],
    corps: new Map([
      [1, corpsFor(1, 3, id)],
      [2, corpsFor(2, 7, id)],
      [3, corpsFor(3, 5, id)],
    ]),
  }));
}

describe('crawler paging and failures', () => {
  let db: TestDatabase;
  let api: FakeApi;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  beforeEach(() => {
    api = new FakeApi(network());
  });

  const sync = (): Promise<RunOutcome> =>
    runSync({
      db: db.database,
      api,
      upstreamCorpid: UP,
      sync: { pageSize: 2, chainConcurrency: 2, details: 'changed', detailsMaxAgeHours: 24 },
      apiConcurrency: 2,
      log: pino({ level: 'silent' }),
    });
  const storedKeys = async (chainId: string) =>
    (
      await db.pool.query(
        'select corp_key from wecom.chain_corps where chain_id = $1 and removed_at is null order by 1',
        [chainId],
      )
    ).rows.map((r) => r.corp_key);
  const expectedKeys = (chainId: string) =>
    [
      ...network()
        .find((c) => c.chain.chainId === chainId)!
        .corps.values(),
    ]
      .flat()
      .map((c) => (c.isJoined ? c.corpid : ''))
      .sort();

  it('follows cursors through every page of the root and every group', async () => {
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(await storedKeys('a')).toEqual(expectedKeys('a'));
    expect(await storedKeys('b')).toEqual(expectedKeys('b'));
    // 3 corps in 2 pages, 7 in 4, 5 in 3: 9 pages per chain; the root is asked for without a groupid.
    expect(api.count('get_chain_corpinfo_list')).toBe(18);
    expect(outcome.stats.pages).toBe(18);
    expect(
      api.calls.some(
        (c) => c.endpoint === 'get_chain_corpinfo_list' && (c.args as { groupid: unknown }).groupid === null,
      ),
    ).toBe(true);
    expect(api.count('get_chain_corpinfo')).toBe(30);
  });

  it('asks a second time only for the details of corps that changed', async () => {
    api.chains[0]!.corps.get(2)![0]!.corpName = '改名';
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(api.count('get_chain_corpinfo')).toBe(1);
    expect(outcome.stats.rows.chain_corps).toEqual({ inserted: 0, updated: 1, unchanged: 29, removed: 0 });
  });

  it('fails a chain whose cursor repeats, keeps its stored rows, and ends partial', async () => {
    api.chains[0]!.corps.set(2, corpsFor(2, 2, 'new'));
    const before = await storedKeys('a');
    api.onList = (req, real) =>
      req.chainId === 'a' && req.groupid === 3 ? { ...real, hasMore: true, nextCursor: 'loop' } : undefined;
    const outcome = await sync();
    expect(outcome.status).toBe('partial');
    expect(outcome.stats.failures).toEqual([
      { chain_id: 'a', error: 'chain a: group 3: next_cursor repeated' },
    ]);
    expect(await storedKeys('a')).toEqual(before);
    const run = (
      await db.pool.query('select status, error from wecom.sync_runs where id = $1', [outcome.runId])
    ).rows[0];
    expect(run.status).toBe('partial');
    expect(run.error).toContain('next_cursor repeated');
  });

  it('fails a chain whose id is too long to store, and syncs the others', async () => {
    // Longer than a B-tree row may be, and random, which PostgreSQL cannot compress to fit: stored, it
    // would fail the merge as a database error, ending the run.
    const long = randomBytes(1_500).toString('hex');
    api.chains.push({ ...network()[0]!, chain: { chainId: long, chainName: '长' } });
    const outcome = await sync();
    expect(outcome.status).toBe('partial');
    expect(outcome.stats.failures).toEqual([
      {
        chain_id: long,
        error: `chain ${long}: chain_id longer than ${MAX_STORED_ID_BYTES} bytes, which cannot be stored`,
      },
    ]);
    expect(outcome.stats.chains).toMatchObject({ listed: 3, completed: 2, failed: 1 });
    expect(api.calls.filter((c) => c.args === long)).toEqual([]);
    expect(await storedKeys('b')).toEqual(expectedKeys('b'));
  });

  it('stores a chain and a pending corp whose ids are as long as may be, and versions them', async () => {
    // Random, so that PostgreSQL cannot compress them into a B-tree row: every index holds the chain_id,
    // the primary keys and the history's the corp's key too.
    const longest = () => randomBytes(MAX_STORED_ID_BYTES / 2).toString('hex');
    const chain = { ...network()[0]!, chain: { chainId: longest(), chainName: '长' } };
    const pending = { ...corpsFor(2, 1, 'p')[0]!, isJoined: false as const, pendingCorpid: longest() };
    delete (pending as { corpid?: string }).corpid;
    chain.corps.set(2, [pending]);
    api.chains.push(chain);
    expect((await sync()).status).toBe('succeeded');
    pending.corpName = '改名';
    expect((await sync()).status).toBe('succeeded');
    const { rows } = await db.pool.query(
      'select corp_name, valid_to is null as open from wecom.chain_corp_history where chain_id = $1 and corp_key = $2 order by valid_from',
      [chain.chain.chainId, `pending:${pending.pendingCorpid}`],
    );
    expect(rows).toEqual([
      { corp_name: '企业0', open: false },
      { corp_name: '改名', open: true },
    ]);
  });

  // A cursor never seen before each time, so only the pages themselves can tell that the listing is stuck.
  // 20 pages in turn, each of two corps of its own, over and over.
  const cycle = Array.from({ length: 20 }, (_, i) => corpsFor(3, 2, `x${i}-`));
  it.each([
    ['empty pages', () => [], 101],
    ['the same two corps again and again', () => corpsFor(3, 2, 'x'), 102],
    ['a cycle of 20 pages', (n: number) => cycle[n % 20]!, 121],
  ])(
    'fails a chain whose listing goes on with %s and a new cursor each time, after 100 of them',
    async (_name, corps, calls) => {
      const before = await storedKeys('a');
      let n = 0;
      api.onList = (req) =>
        req.chainId === 'a' && req.groupid === 3 && req.cursor !== ''
          ? { corps: corps(n), hasMore: true, nextCursor: `loop${n++}` }
          : undefined;
      const outcome = await sync();
      expect(outcome.status).toBe('partial');
      expect(outcome.stats.failures).toEqual([
        {
          chain_id: 'a',
          error: 'chain a: group 3: 100 pages in a row with has_more listed no corp it had not listed before',
        },
      ]);
      // The first page, the pages that were new then, and 100 more.
      const group3 = api.calls.filter((c) => {
        const args = c.args as { chainId?: string; groupid?: number };
        return c.endpoint === 'get_chain_corpinfo_list' && args.chainId === 'a' && args.groupid === 3;
      });
      expect(group3).toHaveLength(calls);
      expect(await storedKeys('a')).toEqual(before);
    },
  );

  it('lists on through 99 empty pages in a row: WeCom may answer with fewer rows than asked, even none', async () => {
    // The fake reads "c0…02" as "from the third corp on", as it reads "c2": a new cursor for the same place.
    let empties = 0;
    api.onList = (req) =>
      req.chainId === 'a' && req.groupid === 3 && /^c0*2$/.test(req.cursor) && empties < 99
        ? { corps: [], hasMore: true, nextCursor: `c${'0'.repeat(++empties)}2` }
        : undefined;
    const outcome = await sync();
    expect(empties).toBe(99);
    expect(outcome.status).toBe('succeeded');
    expect(await storedKeys('a')).toEqual(expectedKeys('a'));
  });

  it('crawls and stores a group that get_chain_group lists twice once, as its last listing says', async () => {
    const [first, second] = api.chains[0]!.groups;
    api.chains[0]!.groups = [first!, second!, { ...first!, groupName: '一级（新）' }];
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(api.count('get_chain_corpinfo_list')).toBe(18);
    const { rows } = await db.pool.query(
      `select groupid, group_name from wecom.chain_groups where chain_id = 'a' order by groupid`,
    );
    expect(rows).toEqual([
      { groupid: 2, group_name: '一级（新）' },
      { groupid: 3, group_name: '二级' },
    ]);
  });

  it('crawls the root group when get_chain_group lists it, but stores no row for it', async () => {
    api.chains[0]!.groups.unshift({ groupid: 1, groupName: '根', parentid: 0, order: 0 });
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(await storedKeys('a')).toEqual(expectedKeys('a'));
    const rootListings = api.calls.filter(
      (c) => c.endpoint === 'get_chain_corpinfo_list' && (c.args as { chainId: string }).chainId === 'a',
    );
    expect(
      rootListings.filter((c) => [1, null].includes((c.args as { groupid: number }).groupid)),
    ).toHaveLength(2);
    const { rows } = await db.pool.query(
      `select groupid, depth, path_complete from wecom.group_tree where chain_id = 'a' order by groupid`,
    );
    expect(rows).toEqual([
      { groupid: 2, depth: 1, path_complete: true },
      { groupid: 3, depth: 2, path_complete: true },
    ]);
  });

  it('rejects has_more without a cursor', async () => {
    api.onList = (req, real) =>
      req.chainId === 'b' && req.groupid === 2 ? { ...real, nextCursor: '' } : undefined;
    const outcome = await sync();
    expect(outcome.stats.failures[0]?.error).toBe('chain b: group 2: has_more without a next_cursor');
  });

  it('restarts a listing once after errcode 50100, then fails the chain on a second one', async () => {
    let invalid = 1;
    api.onList = (req) => {
      if (req.chainId === 'a' && req.groupid === 2 && req.cursor === 'c4' && invalid-- > 0) {
        throw new WecomApiError('get_chain_corpinfo_list', 50100, 'invalid cursor');
      }
      return undefined;
    };
    const restarted = await sync();
    expect(restarted.status).toBe('succeeded');
    expect(await storedKeys('a')).toEqual(expectedKeys('a'));

    invalid = 2;
    const failed = await sync();
    expect(failed.status).toBe('partial');
    expect(failed.stats.failures[0]?.error).toContain('50100');
  });

  it('forgets what a listing restarted after errcode 50100 staged: a corp gone meanwhile is removed', async () => {
    const group2 = api.chains[0]!.corps.get(2)!;
    const gone = group2[0]!;
    let invalid = 1;
    api.onList = (req) => {
      if (req.chainId === 'a' && req.groupid === 2 && req.cursor === 'c4' && invalid-- > 0) {
        group2.splice(0, 1); // listed on the first page, gone when the listing starts again
        throw new WecomApiError('get_chain_corpinfo_list', 50100, 'invalid cursor');
      }
      return undefined;
    };
    const outcome = await sync();
    expect(outcome.status).toBe('succeeded');
    expect(await storedKeys('a')).not.toContain(corpKey(gone));
    expect(outcome.stats.rows.chain_corps.removed).toBe(1);
  });

  /** Chain a refused as a whole app would be (48002): an error that ends the run. */
  const refuseChainA: FakeApi['onList'] = (req) => {
    if (req.chainId === 'a') throw new WecomRefusedError('get_chain_corpinfo_list', 48002, 'api forbidden');
    return undefined;
  };

  it("stops another chain's get_chain_group at once when a chain's error ends the run", async () => {
    // Chain b's tree is slow (a 45009 pause, say).
    api.onList = refuseChainA;
    api.beforeGroups = (chainId, signal) =>
      chainId === 'b'
        ? new Promise((_resolve, reject) =>
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true }),
          )
        : Promise.resolve();
    // Without the signal reaching it, b's call would never end, and neither would the run.
    const outcome = await sync();
    expect(outcome.status).toBe('failed');
    expect(outcome.fatal).toBeInstanceOf(WecomRefusedError);
    expect(outcome.stats.chains).toMatchObject({ listed: 2, started: 1 });
  });

  it('does not start a chain whose tree comes back after a run-ending error stopped it', async () => {
    api.onList = refuseChainA;
    // Chain b's tree is answered, but only once the run has been stopped.
    api.beforeGroups = (chainId, signal) =>
      chainId === 'b'
        ? new Promise((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true }))
        : Promise.resolve();
    const outcome = await sync();
    expect(outcome.status).toBe('failed');
    expect(outcome.stats.chains).toMatchObject({ listed: 2, started: 1 });
  });

  it('ends failed, changing nothing, when no chain can be crawled', async () => {
    const before = (await db.pool.query('select xmin::text, * from wecom.chain_corps order by corp_key'))
      .rows;
    api.onList = () => {
      throw new WecomApiError('get_chain_corpinfo_list', 60011, 'no privilege');
    };
    const outcome = await sync();
    expect(outcome.status).toBe('failed');
    expect(outcome.stats.chains).toEqual({ listed: 2, started: 2, completed: 0, failed: 2 });
    expect(
      (await db.pool.query('select xmin::text, * from wecom.chain_corps order by corp_key')).rows,
    ).toEqual(before);
  });
});

describe('crawler flow control', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());
  afterEach(() => vi.restoreAllMocks());

  const groupsOf = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ groupid: i + 2, groupName: `组${i}`, parentid: 1, order: i }));
  /** A sync in pages of 10. */
  const crawl = (
    api: FakeApi,
    s: { chainConcurrency: number; details: 'all' | 'none'; apiConcurrency: number },
  ): Promise<RunOutcome> =>
    runSync({
      db: db.database,
      api,
      upstreamCorpid: UP,
      sync: {
        pageSize: 10,
        chainConcurrency: s.chainConcurrency,
        details: s.details,
        detailsMaxAgeHours: 24,
      },
      apiConcurrency: s.apiConcurrency,
      log: pino({ level: 'silent' }),
    });
  const argsOf = <T>(api: FakeApi, endpoint: string): T[] =>
    api.calls.filter((c) => c.endpoint === endpoint).map((c) => c.args as T);

  it('queues the details of only a few pages at a time, however many groups are being listed', async () => {
    const groups = groupsOf(12);
    const api = new FakeApi([
      {
        chain: { chainId: 'wide', chainName: '宽' },
        groups,
        corps: new Map(groups.map((g) => [g.groupid, corpsFor(g.groupid, 30, 'w')])),
      },
    ]);
    // Eight groups listed at once; the details of ceil(4 × 4 / 10) + 1 = 3 pages of 10 fetched at once.
    const outcome = await crawl(api, { chainConcurrency: 1, details: 'all', apiConcurrency: 4 });
    expect(outcome.status).toBe('succeeded');
    expect(api.count('get_chain_corpinfo')).toBe(360);
    // Every listed page queuing its details at once would have 8 pages × 10 = 80 waiting.
    expect(api.maxDetailsInFlight).toBe(30);
  });

  it('lists every group of the chain that started first before any group of the next', async () => {
    const api = new FakeApi(
      ['a', 'b'].map((id) => ({
        chain: { chainId: id, chainName: id },
        groups: groupsOf(6),
        corps: new Map(groupsOf(6).map((g) => [g.groupid, corpsFor(g.groupid, 3, id)])),
      })),
    );
    // The first chain's listings are held until the second chain has asked for slots too, so a free slot
    // has two chains to go to from then on.
    const asked = Promise.withResolvers<void>();
    const each = GroupSlots.prototype.each;
    let chainsAsking = 0;
    vi.spyOn(GroupSlots.prototype, 'each').mockImplementation(function (this: GroupSlots, ...args) {
      const listed = each.apply(this, args);
      if (++chainsAsking === 2) asked.resolve();
      return listed;
    });
    api.beforeList = () => asked.promise;
    // Two groups listed at once, shared by both chains.
    const outcome = await crawl(api, { chainConcurrency: 2, details: 'none', apiConcurrency: 1 });
    expect(outcome.status).toBe('succeeded');
    const chainOrder = argsOf<{ chainId: string }>(api, 'get_chain_corpinfo_list').map((a) => a.chainId);
    expect(chainOrder).toHaveLength(14);
    // One switch from one chain to the other: taking turns would switch at every group.
    const switches = chainOrder.filter((id, i) => i > 0 && id !== chainOrder[i - 1]).length;
    expect(switches).toBe(1);
  });

  it("fetches the details of a page that has a next page before those of a group's last page", async () => {
    // Group 2 has three pages; groups 3-9 one each. Eight groups are listed at once and three pages fetch
    // details at once, so the one-page groups queue; group 2's second page must not wait behind them all.
    const groups = groupsOf(8);
    const api = new FakeApi([
      {
        chain: { chainId: 'c', chainName: 'c' },
        groups,
        corps: new Map([
          [1, []],
          ...groups.map((g) => [g.groupid, corpsFor(g.groupid, g.groupid === 2 ? 30 : 10, 'c')] as const),
        ]),
      },
    ]);
    const outcome = await crawl(api, { chainConcurrency: 1, details: 'all', apiConcurrency: 4 });
    expect(outcome.status).toBe('succeeded');
    const detailed = argsOf<{ corpid: string }>(api, 'get_chain_corpinfo').map((a) => a.corpid);
    const secondPageOfGroup2 = detailed.indexOf('c2-10');
    const lastOnePageGroup = detailed.indexOf('c9-0');
    expect(secondPageOfGroup2).toBeGreaterThan(0);
    expect(secondPageOfGroup2).toBeLessThan(lastOnePageGroup);
  });
});

describe("crawler: which of a corp's records is stored, and what is counted", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const group = (groupid: number, groupName: string) => ({ groupid, groupName, parentid: 1, order: 0 });
  const corp = (corpid: string, groupid: number) => ({
    isJoined: true as const,
    corpid,
    corpName: corpid,
    customId: '',
    groupid,
    inviteUserid: null,
  });
  const chainOf = (chainId: string, corps: [number, ReturnType<typeof corp>[]][]): FakeChain => ({
    chain: { chainId, chainName: chainId },
    groups: [group(2, 'A'), group(3, 'B')],
    corps: new Map(corps),
  });
  const sync = (api: FakeApi, pageSize = 5) =>
    runSync({
      db: db.database,
      api,
      upstreamCorpid: UP,
      sync: { pageSize, chainConcurrency: 1, details: 'changed', detailsMaxAgeHours: 24 },
      apiConcurrency: 1,
      log: pino({ level: 'silent' }),
    });
  /** Resolves once the corp's details were refused. */
  const refuse = (api: FakeApi, corpid: string, times: number): Promise<void> => {
    const answer = api.getCorpInfo.bind(api);
    const done = Promise.withResolvers<void>();
    let refused = 0;
    api.getCorpInfo = async (req) => {
      if ('corpid' in req && req.corpid === corpid && refused++ < times) {
        done.resolve();
        throw new WecomApiError('get_chain_corpinfo', 60136, 'refused');
      }
      return answer(req);
    };
    return done.promise;
  };

  it('counts no refused details for a chain that then failed: nothing was stored', async () => {
    const api = new FakeApi([
      chainOf('failed', [
        [2, [corp('wj1', 2)]],
        [3, [corp('wj3', 3)]],
      ]),
    ]);
    const refused = refuse(api, 'wj1', 1);
    const list = api.listCorps.bind(api);
    api.listCorps = async (req) => {
      if (req.groupid !== 3) return list(req);
      await refused;
      throw new WecomApiError('get_chain_corpinfo_list', 60003, 'gone');
    };
    const outcome = await sync(api);
    expect(outcome.status).toBe('failed');
    expect(outcome.stats.details_failed).toBe(0);
  });

  it('counts no refused details for a corp that a listing started again stored with new ones', async () => {
    const api = new FakeApi([
      chainOf('restarted', [
        [2, [corp('wj1', 2), corp('wj2', 2)]],
        [3, []],
      ]),
    ]);
    refuse(api, 'wj1', 1);
    let restarted = false;
    api.onList = (req) => {
      if (req.groupid === 2 && req.cursor !== '' && !restarted) {
        restarted = true;
        throw new WecomApiError('get_chain_corpinfo_list', 50100, 'invalid cursor');
      }
      return undefined;
    };
    const outcome = await sync(api, 1);
    expect(outcome.status).toBe('succeeded');
    const { rows } = await db.pool.query(
      `select details_fetched_at is not null as fetched from wecom.chain_corps where corp_key = 'wj1'`,
    );
    expect(rows).toEqual([{ fetched: true }]);
    expect(outcome.stats.details_failed).toBe(0);
  });

  it('stores a corp listed twice as the listing that came last says, whichever details came back last', async () => {
    const chain = chainOf('twice', [
      [2, [corp('wx', 2)]],
      [3, []],
    ]);
    const api = new FakeApi([chain]);
    expect((await sync(api)).status).toBe('succeeded');
    // A new corp wy in group A; wx moves from A to B once A's page has come, before B is listed. A's page
    // is staged only when wy's details come, after B's page is staged.
    chain.corps.set(2, [corp('wx', 2), corp('wy', 2)]);
    const aListed = Promise.withResolvers<void>();
    const bStaged = Promise.withResolvers<void>();
    const list = api.listCorps.bind(api);
    api.listCorps = async (req) => {
      if (req.groupid === 3) {
        await aListed.promise;
        chain.corps.set(2, [corp('wy', 2)]);
        chain.corps.set(3, [corp('wx', 3)]);
      }
      const page = await list(req);
      if (req.groupid === 2) aListed.resolve();
      return page;
    };
    const answer = api.getCorpInfo.bind(api);
    api.getCorpInfo = async (req) => {
      if ('corpid' in req && req.corpid === 'wy') await bStaged.promise;
      const detail = await answer(req);
      // B's page is staged in the turns after its one corp's details come: let those run first.
      if ('corpid' in req && req.corpid === 'wx') setImmediate(() => bStaged.resolve());
      return detail;
    };
    expect((await sync(api)).status).toBe('succeeded');
    const { rows } = await db.pool.query(`select groupid from wecom.chain_corps where corp_key = 'wx'`);
    expect(rows).toEqual([{ groupid: 3 }]);
  });
});
