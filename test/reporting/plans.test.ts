// The views stay index-driven at scale: a generated data set of 200,000 corps (20 chains) and their history,
// and the plans of the queries BI runs most. Asserts on plan shape, never on time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { generatedDataSql } from './fixture.ts';

const CORPS = 200_000;
const CHAINS = 20;
const GROUPS_PER_CHAIN = 50;

const GENERATE = generatedDataSql(CORPS, CHAINS, GROUPS_PER_CHAIN);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('query plans on 200,000 corps', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(GENERATE);
  }, 60_000);
  afterAll(() => db?.drop());

  async function plan(sql: string, params: unknown[] = []): Promise<PlanNode[]> {
    const { rows } = await db.pool.query(`explain (format json) ${sql}`, params);
    return nodes(rows[0]['QUERY PLAN'][0].Plan);
  }
  /** How each read of `table` is done: "Seq Scan", "Index Scan:<index>", "Bitmap Heap Scan:<index>"… */
  const scans = (all: PlanNode[], table: string) =>
    all
      .filter((n) => n['Relation Name'] === table)
      .map((n) => {
        const index =
          n['Node Type'] === 'Bitmap Heap Scan'
            ? nodes(n)
                .filter((x) => x['Node Type'] === 'Bitmap Index Scan')
                .map((x) => x['Index Name'])
                .join('+')
            : (n['Index Name'] ?? '');
        return index ? `${n['Node Type']}:${index}` : n['Node Type'];
      });

  it('has the data it claims', async () => {
    const { rows } = await db.pool.query(
      `select (select count(*)::int from wecom.chain_corps) as corps,
              (select count(*)::int from wecom.chain_corp_history) as versions`,
    );
    expect(rows[0]).toEqual({ corps: CORPS, versions: CORPS + CORPS / 4 });
  });

  it('events of one chain (or one corp) read that chain through an index on it, not the whole history', async () => {
    for (const where of [
      "chain_id = 'ch7'",
      "upstream_corpid = 'wwbig' and chain_id = 'ch7'",
      "chain_id = 'ch7' and entity_key = 'ww71'",
    ]) {
      const all = await plan(`select * from wecom.chain_corp_events where ${where}`);
      expect(scans(all, 'chain_corp_history'), where).toEqual([
        // events_idx, or version_key when upstream_corpid is given too: both start with the chain.
        expect.stringMatching(/^(Index Scan|Bitmap Heap Scan):chain_corp_history_(events_idx|version_key)$/),
      ]);
    }
  });

  it('current corps of one chain (and of one group) come from an index', async () => {
    for (const where of ["chain_id = 'ch7'", "chain_id = 'ch7' and groupid = 107"]) {
      const all = await plan(`select * from wecom.corps_current where ${where}`);
      const corps = scans(all, 'chain_corps');
      expect(corps, where).toHaveLength(1);
      expect(corps[0], where).toMatch(/^(Index Scan|Bitmap Heap Scan):chain_corps_current_idx$/);
    }
  });

  it('an as-of snapshot of one chain reads that chain only', async () => {
    const all = await plan(
      `select * from wecom.chain_corp_history
       where chain_id = 'ch7' and valid_from <= $1 and (valid_to is null or valid_to > $1)`,
      [new Date(Date.now() - 200 * 86_400_000)],
    );
    const history = scans(all, 'chain_corp_history');
    expect(history).toHaveLength(1);
    expect(history[0]).toMatch(/^(Index Scan|Bitmap Heap Scan):chain_corp_history_events_idx$/);
  });

  it('chain_summary reads recent versions through the valid_from index, not the whole history', async () => {
    const all = await plan('select * from wecom.chain_summary');
    const history = scans(all, 'chain_corp_history');
    expect(history).not.toContainEqual(expect.stringMatching(/^Seq Scan/));
    expect(history).toContainEqual(expect.stringMatching(/chain_corp_history_valid_idx$/));
    // One chain's summary does not read the other chains' corps.
    const one = await plan(`select * from wecom.chain_summary where chain_id = 'ch7'`);
    expect(scans(one, 'chain_corps')).not.toContainEqual(expect.stringMatching(/^Seq Scan/));
    expect(scans(one, 'chain_corp_history')).not.toContainEqual(expect.stringMatching(/^Seq Scan/));
  });

  it('and the views answer correctly at this size', async () => {
    const { rows } = await db.pool.query(
      `select corps_joined + corps_pending as corps, groups from wecom.chain_summary where chain_id = 'ch7'`,
    );
    // Chain 7 holds every 30th corp, less the removed ones (every 20th): i ≡ 7 (mod 30) and i ≢ 0 (mod 23).
    const expected = Array.from({ length: CORPS }, (_, k) => k + 1).filter(
      (i) => Math.floor(i / 10) % CHAINS === 7 && i % 23 !== 0,
    ).length;
    expect(rows).toEqual([{ corps: expected, groups: GROUPS_PER_CHAIN }]);
    const events = await db.pool.query(
      `select event_type, count(*)::int as n from wecom.chain_corp_events where chain_id = 'ch7'
       group by 1 order by 1`,
    );
    const inChain = Array.from({ length: CORPS }, (_, k) => k + 1).filter(
      (i) => Math.floor(i / 10) % CHAINS === 7,
    );
    expect(events.rows).toEqual([
      { event_type: 'added', n: inChain.length },
      { event_type: 'removed', n: inChain.filter((i) => i % 23 === 0).length },
      { event_type: 'renamed', n: inChain.filter((i) => i % 4 === 0).length },
    ]);
  });
});
