// A short listing with no details is held in memory and, unchanged, merged without a stage table: creating
// one writes to the system catalogs. Every change must still reach the tables.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChainStage, MEMORY_ROWS } from '../../src/db/chain-stage.ts';
import * as q from '../../src/db/merge-sql.ts';
import { createPool } from '../../src/db/pool.ts';
import { postgresDatabase } from '../../src/db/postgres.ts';
import { startRun } from '../../src/db/runs.ts';
import type { ListedCorp } from '../../src/wecom/types.ts';
import { createTestDatabase, intercepted, type TestDatabase } from '../helpers/db.ts';
import { CHAIN, groups, joined, pending, UP } from './stage-fixtures.ts';

const BASE: ListedCorp[] = [
  joined('wwa'),
  joined('wwb', { inviteUserid: null }),
  pending('wpc'),
  joined('wwd', { groupid: 3 }),
];
const without = (key: string) => BASE.filter((c) => (c.isJoined ? c.corpid : c.pendingCorpid) !== key);
const replacing = (corpid: string, extra: Partial<ListedCorp>) =>
  BASE.map((c) => (c.isJoined && c.corpid === corpid ? joined(corpid, { ...c, ...extra }) : c));

describe('ChainStage, a listing held in memory', () => {
  let db: TestDatabase;
  let run = 0;
  // Every statement the stage's sessions ran that touched the stage table.
  const staging: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    run = await startRun(db.database.orm, UP);
  });
  afterAll(() => db.drop());

  async function withStage<T>(work: (stage: ChainStage) => Promise<T>): Promise<T> {
    const spied = intercepted(db.database, (session, text, params) => {
      if (text.includes('wcs_stage_corps')) staging.push(text);
      return session.query(text, params);
    });
    staging.length = 0;
    const stage = await ChainStage.open(spied, UP, CHAIN.chainId);
    try {
      return await work(stage);
    } finally {
      await stage.close();
    }
  }
  const sync = (corps: readonly ListedCorp[]) =>
    withStage(async (stage) => {
      await stage.add(corps.map((corp) => ({ corp, detail: null })));
      return (await stage.commit(CHAIN, groups, run)).chain_corps;
    });
  const rows = async () =>
    (await db.pool.query('select *, xmin::text as xmin from wecom.chain_corps order by corp_key')).rows;

  beforeEach(async () => {
    await sync(BASE);
  });

  it('merges an unchanged listing without a stage table, and without touching a row', async () => {
    const before = await rows();
    expect(await sync(BASE)).toEqual({ inserted: 0, updated: 0, unchanged: 4, removed: 0 });
    expect(staging).toEqual([]);
    expect(await rows()).toEqual(before);
  });

  it.each<[string, () => Promise<readonly ListedCorp[]>, Record<string, number>]>([
    ['a rename', async () => replacing('wwa', { corpName: '改名' }), { updated: 1 }],
    ['a new custom_id', async () => replacing('wwa', { customId: 'c-new' }), { updated: 1 }],
    ['a move to another group', async () => replacing('wwa', { groupid: 3 }), { updated: 1 }],
    ['an inviter set', async () => replacing('wwb', { inviteUserid: 'zhang' }), { updated: 1 }],
    ['an inviter cleared', async () => replacing('wwa', { inviteUserid: null }), { updated: 1 }],
    ['a corp gone', async () => without('wwd'), { removed: 1 }],
    ['a new corp', async () => [...BASE, joined('wwe')], { inserted: 1 }],
    [
      'a pending corp that joined',
      async () => [...without('wpc'), joined('wpc')],
      { inserted: 1, removed: 1 },
    ],
    [
      'a corp listed twice in place of one gone',
      async () => [...without('wwd'), joined('wwa')],
      { removed: 1 },
    ],
    [
      'a corp listed twice, the last time renamed',
      async () => [...BASE, joined('wwa', { corpName: '后' })],
      { updated: 1 },
    ],
    [
      'a removed corp listed again',
      async () => {
        expect(await sync(without('wwd'))).toMatchObject({ removed: 1 });
        return BASE;
      },
      { updated: 1 },
    ],
  ])('merges %s', async (_, listing, changed) => {
    const corps = await listing();
    const counts = await sync(corps);
    expect(counts).toMatchObject(changed);
    expect(counts.inserted + counts.updated + counts.removed).toBeGreaterThan(0);
    expect(staging.length).toBeGreaterThan(0);
  });

  it('forgets a listing started again while held', async () => {
    const counts = await withStage(async (stage) => {
      const first = stage.newListing();
      await stage.add([{ corp: joined('wwx'), detail: null }], first);
      await stage.discard(first);
      await stage.add(
        BASE.map((corp) => ({ corp, detail: null })),
        stage.newListing(),
      );
      return (await stage.commit(CHAIN, groups, run)).chain_corps;
    });
    expect(counts).toEqual({ inserted: 0, updated: 0, unchanged: 4, removed: 0 });
    expect(staging).toEqual([]);
    expect((await rows()).map((r) => r.corp_key)).not.toContain('wwx');
  });

  it('finds what is missing from a held listing, staging it only then', async () => {
    const complete = await withStage(async (stage) => {
      await stage.add(BASE.map((corp) => ({ corp, detail: null })));
      return stage.missing(10);
    });
    expect(complete).toEqual([]);
    expect(staging).toEqual([]);

    const missing = await withStage(async (stage) => {
      await stage.add(without('wwd').map((corp) => ({ corp, detail: null })));
      return stage.missing(10);
    });
    expect(missing).toEqual([joined('wwd', { groupid: 3 })]);
  });

  it('stages the listing of a chain too long to hold, page by page, and merges it whole', async () => {
    const many = Array.from({ length: MEMORY_ROWS + 1 }, (_, i) => joined(`ww${String(i).padStart(5, '0')}`));
    expect(await sync(many)).toMatchObject({ inserted: many.length, removed: BASE.length });
    const pages = Array.from({ length: Math.ceil(many.length / 250) }, (_, i) =>
      many.slice(i * 250, i * 250 + 250),
    );
    // All at once: pages come while the table is still being created.
    const again = await withStage(async (stage) => {
      await Promise.all(pages.map((page) => stage.add(page.map((corp) => ({ corp, detail: null })))));
      return (await stage.commit(CHAIN, groups, run)).chain_corps;
    });
    expect(again).toEqual({ inserted: 0, updated: 0, unchanged: many.length, removed: 0 });
    expect(staging[0]).toBe(q.CREATE_STAGE);
    expect(await sync(many.slice(1))).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: MEMORY_ROWS,
      removed: 1,
    });
  });

  it('stages a listing once it has more corps than the chain had', async () => {
    const counts = await withStage(async (stage) => {
      await stage.add(BASE.map((corp) => ({ corp, detail: null })));
      expect(staging).toEqual([]);
      await stage.add([{ corp: joined('ww-more'), detail: null }]);
      await vi.waitFor(() => expect(staging).toContain(q.CREATE_STAGE));
      return (await stage.commit(CHAIN, groups, run)).chain_corps;
    });
    expect(counts).toEqual({ inserted: 1, updated: 0, unchanged: 4, removed: 0 });
  });

  it('fails a merge whose stage could not be created with that error, never as an unhandled rejection', async () => {
    let refused = 0;
    const failing = intercepted(db.database, (session, text, params) => {
      if (text !== q.CREATE_STAGE) return session.query(text, params);
      refused += 1;
      return Promise.reject(new Error('no stage for you'));
    });
    const stage = await ChainStage.open(failing, UP, CHAIN.chainId);
    try {
      await stage.add([...BASE, joined('wwe')].map((corp) => ({ corp, detail: null })));
      // The creation has failed before anything waits for it, and Node has had a turn to call it unhandled.
      await vi.waitFor(() => expect(refused).toBe(1));
      await new Promise((resolve) => setImmediate(resolve));
      await expect(stage.commit(CHAIN, groups, run)).rejects.toThrow('no stage for you');
    } finally {
      await stage.close();
    }
  });

  it('fails at open, with PostgreSQL’s error, for a role that may not create temporary tables', async () => {
    const role = `wcs_notemp_${randomBytes(4).toString('hex')}`;
    const name = new URL(db.url).pathname.slice(1);
    await db.pool.query(`create role ${role} login`);
    await db.pool.query(`revoke temporary on database ${name} from public`);
    await db.pool.query(`grant usage on schema wecom to ${role}`);
    await db.pool.query(`grant select on all tables in schema wecom to ${role}`);
    const url = new URL(db.url);
    url.username = role;
    const pool = createPool(url.toString(), 2);
    try {
      await expect(ChainStage.open(postgresDatabase(pool), UP, CHAIN.chainId)).rejects.toThrow(
        /permission denied to create temporary tables/,
      );
    } finally {
      await pool.end();
      await db.pool.query(`grant temporary on database ${name} to public`);
      await db.pool.query(`drop owned by ${role}`);
      await db.pool.query(`drop role ${role}`);
    }
  });
});
