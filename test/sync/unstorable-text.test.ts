// Text that JSON can carry but PostgreSQL cannot store (half a surrogate pair, a NUL), in the places where
// it would once have failed the whole run, or left it recorded as `running`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { syncAgainstScript } from '../helpers/simulated.ts';
import { type Answer, errcode, ok, type Script } from '../wecom/helpers.ts';

const CHAINS = [
  { chain_id: 'c1', chain_name: 'first' },
  { chain_id: 'c2', chain_name: 'second' },
];
const LONE = '\ud800';

describe('text PostgreSQL cannot store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  const sync = (script: Script) => syncAgainstScript(db.database, CHAINS, script);
  const corpsOf = (chainId: string, name: string): Answer =>
    ok({
      has_more: false,
      group_corps: [
        {
          groupid: 2,
          corpid: `ww-${chainId}${LONE}`,
          corp_name: name,
          custom_id: '',
          invite_userid: `u${LONE}`,
          is_joined: 1,
        },
      ],
    });

  it('stores half a surrogate pair in a name or id as U+FFFD, fails nothing, and rewrites nothing next run', async () => {
    const script: Script = {
      get_chain_group: (req) =>
        ok({
          groups: [{ groupid: 2, group_name: `g ${req.body!.chain_id} ${LONE}`, parentid: 1, order: 1 }],
        }),
      get_chain_corpinfo_list: (req) => corpsOf(String(req.body!.chain_id), `corp ${LONE}x`),
      get_chain_corpinfo: () =>
        ok({ corp_name: `corp ${LONE}x`, qualification_status: 2, groupid: 2, is_joined: true }),
    };
    expect((await sync(script)).status).toBe('succeeded');
    const { rows } = await db.pool.query(
      `select g.group_name, c.corp_key, c.corp_name, c.invite_userid from wecom.chain_groups g
       join wecom.chain_corps c using (upstream_corpid, chain_id) order by chain_id`,
    );
    expect(rows).toEqual(
      ['c1', 'c2'].map((chain) => ({
        group_name: `g ${chain} \ufffd`,
        corp_key: `ww-${chain}\ufffd`,
        corp_name: 'corp \ufffdx',
        invite_userid: 'u\ufffd',
      })),
    );
    // Compared with what was stored, not with what came: the names are unchanged, and no details are due.
    const again = await sync(script);
    expect(again.stats.rows).toMatchObject({
      chain_groups: { inserted: 0, updated: 0 },
      chain_corps: { inserted: 0, updated: 0 },
    });
    expect(again.stats.details_fetched).toBe(0);
  });

  it.each([
    ['a NUL', 'no privilege\u0000 hint', 'no privilege\ufffd hint'],
    ['half a surrogate pair', `no privilege ${LONE} hint`, 'no privilege \ufffd hint'],
    ['10,000 characters', 'x'.repeat(10_000), `${'x'.repeat(500)}…`],
  ])(
    'records a run whose errmsg holds %s as failed, with the message made storable',
    async (_name, errmsg, stored) => {
      const outcome = await sync({ get_chain_group: () => errcode(60011, errmsg) });
      expect(outcome.status).toBe('failed');
      const { rows } = await db.pool.query('select status, error from wecom.sync_runs where id = $1', [
        outcome.runId,
      ]);
      expect(rows[0].status).toBe('failed');
      expect(rows[0].error).toContain(stored);
      expect(rows[0].error).not.toContain('x'.repeat(501));
    },
  );
});
