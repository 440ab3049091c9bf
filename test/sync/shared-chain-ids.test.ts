// Two upstream corps in one database whose chains share an id (chain ids are WeCom's, unique only per
// upstream corp): every statement that reads or writes a chain's rows must keep to its own upstream's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { syncAgainstScript } from '../helpers/simulated.ts';
import { ok, type Script } from '../wecom/helpers.ts';

describe('two upstream corps with a chain of the same id', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const group2 = { groupid: 2, group_name: 'g2', parentid: 1, order: 2 };
  const corp = (corpid: string) => ({ groupid: 2, corpid, corp_name: corpid, custom_id: '', is_joined: 1 });
  /** A chain of one group holding `corpids`; every details call answered, and its corpid kept in `asked`. */
  const chainOf = (corpids: string[], asked: string[] = []): Script => ({
    get_chain_group: () => ok({ groups: [group2] }),
    get_chain_corpinfo_list: (req) =>
      ok({ has_more: false, group_corps: req.body!.groupid === 2 ? corpids.map(corp) : [] }),
    get_chain_corpinfo: (req) => {
      asked.push(String(req.body!.corpid));
      return ok({ corp_name: req.body!.corpid, qualification_status: 3, groupid: 2, is_joined: true });
    },
  });
  const sync = (upstreamCorpid: string, chainId: string, script: Script, listed = true) =>
    syncAgainstScript(db.database, listed ? [{ chain_id: chainId, chain_name: 'n' }] : [], script, {
      upstreamCorpid,
    });
  const current = async (upstream: string, chainId: string) =>
    (
      await db.pool.query(
        `select corp_key, qualification_status from wecom.chain_corps
         where upstream_corpid = $1 and chain_id = $2 and removed_at is null order by 1`,
        [upstream, chainId],
      )
    ).rows;

  it("rechecks only its own corps missing from a listing, and stores none of the other's", async () => {
    await sync('wwB', 'shared1', chainOf(['ww-b1']));
    await sync('wwA', 'shared1', chainOf(['ww-a1', 'ww-a2']));
    // A's listing misses ww-a2: it is rechecked, and found.
    const asked: string[] = [];
    expect((await sync('wwA', 'shared1', chainOf(['ww-a1'], asked))).status).toBe('succeeded');
    expect(asked).toEqual(['ww-a2']);
    expect((await current('wwA', 'shared1')).map((r) => r.corp_key)).toEqual(['ww-a1', 'ww-a2']);
  });

  it("asks for the details of a corp new to it, though the other's row of that corp is fresh", async () => {
    await sync('wwB', 'shared2', chainOf(['ww-same']));
    const asked: string[] = [];
    expect((await sync('wwA', 'shared2', chainOf(['ww-same'], asked))).status).toBe('succeeded');
    expect(asked).toEqual(['ww-same']);
    expect(await current('wwA', 'shared2')).toEqual([{ corp_key: 'ww-same', qualification_status: 3 }]);
  });

  it("keeps its history open when the other's chain of that id is removed", async () => {
    await sync('wwA', 'shared3', chainOf(['ww-a3']));
    await sync('wwB', 'shared3', chainOf(['ww-b3']));
    // B's chain list no longer has the chain; A's still has it.
    expect((await sync('wwB', 'shared3', chainOf([]), false)).status).toBe('succeeded');
    expect((await sync('wwA', 'shared3', chainOf(['ww-a3']))).status).toBe('succeeded');
    const open = async (table: string) =>
      (
        await db.pool.query(
          `select count(*)::int as n from wecom.${table}
           where upstream_corpid = 'wwA' and chain_id = 'shared3' and valid_to is null`,
        )
      ).rows[0].n;
    expect({ groups: await open('chain_group_history'), corps: await open('chain_corp_history') }).toEqual({
      groups: 1,
      corps: 1,
    });
  });
});
