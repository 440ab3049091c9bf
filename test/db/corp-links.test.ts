// Which history entity a corp joins: the link from a pending corp that disappeared to the joined corp that
// appeared with its custom_id, merge by merge, each under a run of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChainStage } from '../../src/db/chain-stage.ts';
import { startRun } from '../../src/db/runs.ts';
import type { CorpDetail, Group, ListedCorp } from '../../src/wecom/types.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { UP } from './stage-fixtures.ts';

const groups: Group[] = [{ groupid: 2, groupName: '一级经销商', parentid: 1, order: 0 }];
const joined = (corpid: string, customId: string): ListedCorp => ({
  isJoined: true,
  corpid,
  corpName: `名${corpid}`,
  customId,
  groupid: 2,
  inviteUserid: null,
});
const pending = (id: string, customId: string): ListedCorp => ({
  isJoined: false,
  pendingCorpid: id,
  corpName: `待${id}`,
  customId,
  groupid: 2,
  inviteUserid: null,
});

describe('linking a pending corp to the joined corp it became', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  let chains = 0;
  /** A fresh chain, and a function that merges one crawl of it under a new run. */
  function chain() {
    const chainId = `links-${++chains}`;
    const crawl = async (corps: ListedCorp[], detail: CorpDetail | null = null) => {
      const runId = await startRun(db.database.orm, UP);
      const stage = await ChainStage.open(db.database, UP, chainId);
      try {
        await stage.add(corps.map((corp) => ({ corp, detail: corp.isJoined ? detail : null })));
        await stage.commit({ chainId, chainName: chainId }, groups, runId);
      } finally {
        await stage.close();
      }
    };
    /** Each entity's corp_keys, oldest version first, with '*' on the open one. */
    const entities = async () => {
      const { rows } = await db.pool.query(
        `select entity_key, string_agg(corp_key || case when valid_to is null then '*' else '' end, ' '
                                       order by valid_from, id) as versions
         from wecom.chain_corp_history where upstream_corpid = $1 and chain_id = $2
         group by entity_key order by entity_key`,
        [UP, chainId],
      );
      return Object.fromEntries(rows.map((r) => [r.entity_key, r.versions]));
    };
    return { crawl, entities };
  }

  it('links a join in the run the pending corp disappeared, and in a later one', async () => {
    const now = chain();
    await now.crawl([pending('p1', 'A')]);
    await now.crawl([joined('wj1', 'A')]);
    expect(await now.entities()).toEqual({ 'pending:p1': 'pending:p1 wj1*' });

    const later = chain();
    await later.crawl([pending('p1', 'A')]);
    await later.crawl([]);
    await later.crawl([joined('wj1', 'A')]);
    expect(await later.entities()).toEqual({ 'pending:p1': 'pending:p1 wj1*' });
  });

  it('does not link to a pending corp whose custom_id has changed since, in an earlier run or this one', async () => {
    const earlier = chain();
    await earlier.crawl([pending('p1', 'A')]);
    await earlier.crawl([pending('p1', 'B')]);
    await earlier.crawl([pending('p1', 'B'), joined('wj1', 'A')]);
    expect(await earlier.entities()).toEqual({ 'pending:p1': 'pending:p1 pending:p1*', wj1: 'wj1*' });

    const same = chain();
    await same.crawl([pending('p1', 'A')]);
    await same.crawl([pending('p1', 'B'), joined('wj1', 'A')]);
    expect(await same.entities()).toEqual({ 'pending:p1': 'pending:p1 pending:p1*', wj1: 'wj1*' });
  });

  it('does not link a second joined corp to a pending corp whose join was already linked', async () => {
    const c = chain();
    await c.crawl([pending('p1', 'A')]);
    await c.crawl([joined('wj1', 'A')]);
    await c.crawl([]);
    await c.crawl([joined('wj2', 'A')]);
    expect(await c.entities()).toEqual({ 'pending:p1': 'pending:p1 wj1', wj2: 'wj2*' });
  });

  it('prefers the pending corp that disappeared in this run to one that disappeared before', async () => {
    const c = chain();
    await c.crawl([pending('p1', 'A'), pending('p2', 'A')]);
    await c.crawl([pending('p1', 'A')]);
    await c.crawl([joined('wj1', 'A')]);
    expect(await c.entities()).toEqual({ 'pending:p1': 'pending:p1 wj1*', 'pending:p2': 'pending:p2' });
  });

  it('links nothing when the custom_id is ambiguous', async () => {
    const twoGone = chain();
    await twoGone.crawl([pending('p1', 'A'), pending('p2', 'A')]);
    await twoGone.crawl([joined('wj1', 'A')]);
    expect(Object.keys(await twoGone.entities())).toEqual(['pending:p1', 'pending:p2', 'wj1']);

    const twoJoined = chain();
    await twoJoined.crawl([pending('p1', 'A')]);
    await twoJoined.crawl([joined('wj1', 'A'), joined('wj2', 'A')]);
    expect(Object.keys(await twoJoined.entities())).toEqual(['pending:p1', 'wj1', 'wj2']);
  });
});
