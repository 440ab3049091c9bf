// The reporting views on a known data set, and `report` as a real process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportText } from '../../src/reporting/report.ts';
import { displayWidth } from '../../src/reporting/text-table.ts';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SQL, OTHER_UPSTREAM, UPSTREAM } from './fixture.ts';

describe('reporting views on a known data set', () => {
  let db: TestDatabase;
  let now: Date;
  const ago = (days: number, hours = 0) => new Date(now.getTime() - (days * 24 + hours) * 3_600_000);

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.pool.query(FIXTURE_SQL);
    // The fixture's transaction time: every timestamp in it is relative to this.
    now = (await db.pool.query('select max(heartbeat_at) as t from wecom.sync_runs')).rows[0].t;
  });
  afterAll(() => db?.drop());

  it('group_tree: paths from the top, invisible parents start their own path, cycles are cut', async () => {
    const { rows } = await db.pool.query(
      `select chain_id, groupid, depth, path_ids, path_names, path, parent_visible, path_complete
       from wecom.group_tree order by chain_id, groupid`,
    );
    // node-postgres leaves bigint[] elements as strings.
    for (const r of rows) r.path_ids = r.path_ids.map(Number);
    const g = (
      chain_id: string,
      groupid: number,
      path_ids: number[],
      path_names: string[],
      parent_visible: boolean,
      path_complete: boolean,
    ) => ({
      chain_id,
      groupid,
      depth: path_ids.length,
      path_ids,
      path_names,
      path: path_names.join(' / '),
      parent_visible,
      path_complete,
    });
    expect(rows).toEqual([
      g('chA', 10, [10], ['一级经销商'], true, true),
      g('chA', 11, [10, 11], ['一级经销商', '华东'], true, true),
      g('chA', 12, [10, 11, 12], ['一级经销商', '华东', '上海'], true, true),
      g('chA', 20, [20], ['不可见上级'], false, false),
      g('chA', 21, [20, 21], ['不可见上级', 'Child of 20'], true, false),
      g('chA', 31, [31], ['孤儿'], false, false),
      g('chA', 40, [41, 40], ['Loop B', 'Loop A'], true, false),
      g('chA', 41, [40, 41], ['Loop A', 'Loop B'], true, false),
      g('chB', 10, [10], ['North'], true, true),
    ]);
    expect(rows.find((r) => r.groupid === 12).path).toBe('一级经销商 / 华东 / 上海');
  });

  it('group_tree walks a group tree once: a line of 400 groups in rows linear in it', async () => {
    // Walking upwards from every group and keeping the longest path made N(N+1)/2 rows for a line of N
    // (16 s at depth 1,000). Counted in rows the recursion produced, not in time. Groups in or under a
    // parentid cycle still walk upwards (a short chain of them here).
    await db.pool.query(`
      insert into wecom.chain_groups (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order)
      select 'deep', 'line', 100 + i, 'g' || i, case when i = 0 then 1 else 99 + i end, i
      from generate_series(0, 399) i
      union all
      select 'deep', 'looped', 100 + i, 'l' || i, case when i = 0 then 101 when i = 1 then 100 else 99 + i end, i
      from generate_series(0, 9) i`);
    try {
      const { rows } = await db.pool.query(
        `explain (analyze, format json) select * from wecom.group_tree where upstream_corpid = 'deep'`,
      );
      const produced: number[] = [];
      const visit = (node: { 'Node Type': string; 'Actual Rows': number; Plans?: unknown[] }) => {
        if (node['Node Type'] === 'Recursive Union') produced.push(node['Actual Rows']);
        for (const child of node.Plans ?? []) visit(child as typeof node);
      };
      visit(rows[0]['QUERY PLAN'][0].Plan);
      expect(produced.length).toBeGreaterThan(0);
      // Rows of every chain in the database pass through the walks (the fixture's 9 groups too).
      const groups = (await db.pool.query('select count(*)::int as n from wecom.chain_groups')).rows[0].n;
      expect(produced.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(2 * groups);
      const line = await db.pool.query(
        `select max(depth)::int as depth, bool_and(path_complete) as complete from wecom.group_tree
         where upstream_corpid = 'deep' and chain_id = 'line'`,
      );
      expect(line.rows).toEqual([{ depth: 400, complete: true }]);
      const looped = await db.pool.query(
        `select max(depth)::int as depth, bool_or(path_complete) as complete from wecom.group_tree
         where upstream_corpid = 'deep' and chain_id = 'looped'`,
      );
      expect(looped.rows).toEqual([{ depth: 10, complete: false }]);
    } finally {
      await db.pool.query(`delete from wecom.chain_groups where upstream_corpid = 'deep'`);
    }
  });

  it('corps_current: current corps of current chains, with the chain name and the group path', async () => {
    const { rows } = await db.pool.query(
      `select chain_id, chain_name, corp_key, qualification, group_name, group_depth, group_path_ids, group_path
       from wecom.corps_current order by chain_id, corp_key`,
    );
    for (const r of rows) r.group_path_ids = r.group_path_ids?.map(Number) ?? null;
    expect(rows).toEqual([
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'pending:pa5',
        qualification: 'unknown',
        group_name: '一级经销商',
        group_depth: 1,
        group_path_ids: [10],
        group_path: '一级经销商',
      },
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'pending:pa8',
        qualification: 'unknown',
        group_name: '华东',
        group_depth: 2,
        group_path_ids: [10, 11],
        group_path: '一级经销商 / 华东',
      },
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'wwa1',
        qualification: 'verified',
        group_name: '上海',
        group_depth: 3,
        group_path_ids: [10, 11, 12],
        group_path: '一级经销商 / 华东 / 上海',
      },
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'wwa2',
        qualification: 'unverified',
        group_name: null,
        group_depth: 0,
        group_path_ids: [],
        group_path: '',
      },
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'wwa3',
        qualification: 'certified',
        group_name: '华东',
        group_depth: 2,
        group_path_ids: [10, 11],
        group_path: '一级经销商 / 华东',
      },
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'wwa4',
        qualification: 'unknown',
        group_name: '不可见上级',
        group_depth: 1,
        group_path_ids: [20],
        group_path: '不可见上级',
      },
      {
        chain_id: 'chA',
        chain_name: '华东供应链',
        corp_key: 'wwa7',
        qualification: 'verified',
        group_name: null,
        group_depth: null,
        group_path_ids: null,
        group_path: null,
      },
      {
        chain_id: 'chB',
        chain_name: 'Supply B',
        corp_key: 'pending:pb2',
        qualification: 'unknown',
        group_name: null,
        group_depth: 0,
        group_path_ids: [],
        group_path: '',
      },
      {
        chain_id: 'chB',
        chain_name: 'Supply B',
        corp_key: 'wwb1',
        qualification: 'verified',
        group_name: 'North',
        group_depth: 1,
        group_path_ids: [10],
        group_path: 'North',
      },
    ]);
  });

  const summaryA = () => ({
    upstream_corpid: UPSTREAM,
    chain_id: 'chA',
    chain_name: '华东供应链',
    groups: 8,
    corps_joined: 5,
    corps_pending: 2,
    corps_unverified: 1,
    corps_verified: 2,
    corps_certified: 1,
    corps_qualification_unknown: 1,
    joined_last_7_days: 1,
    joined_last_30_days: 2,
    last_synced_at: ago(2),
    last_run_id: 4,
  });
  const summaryB = () => ({
    upstream_corpid: UPSTREAM,
    chain_id: 'chB',
    chain_name: 'Supply B',
    groups: 1,
    corps_joined: 1,
    corps_pending: 1,
    corps_unverified: 0,
    corps_verified: 1,
    corps_certified: 0,
    corps_qualification_unknown: 0,
    joined_last_7_days: 0,
    joined_last_30_days: 0,
    last_synced_at: ago(2),
    last_run_id: 4,
  });

  it('chain_summary: sizes, qualification of joined corps, joins after the first sync', async () => {
    const { rows } = await db.pool.query('select * from wecom.chain_summary order by chain_id');
    expect(rows).toEqual([summaryA(), summaryB()]);
  });

  it('chain_summary counts a status outside 1..3 as unknown, as corps_current does: the buckets add up', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      // The client stores whatever status WeCom sends (0..32767).
      await client.query(
        `update wecom.chain_corps set qualification_status = 0
         where chain_id = 'chB' and is_joined and removed_at is null`,
      );
      const { rows } = await client.query(`select * from wecom.chain_summary where chain_id = 'chB'`);
      expect(rows).toEqual([{ ...summaryB(), corps_verified: 0, corps_qualification_unknown: 1 }]);
      const current = await client.query(
        `select qualification from wecom.corps_current where chain_id = 'chB' and is_joined`,
      );
      expect(current.rows).toEqual([{ qualification: 'unknown' }]);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });

  it('chain_summary counts the same joins as chain_corp_events with the documented rule', async () => {
    const fromEvents = await db.pool.query(
      `select e.chain_id,
              count(*) filter (where e.occurred_at >= now() - interval '7 days')::int as d7,
              count(*)::int as d30
       from wecom.chain_corp_events e
       join wecom.chains c on c.upstream_corpid = e.upstream_corpid and c.chain_id = e.chain_id
       left join wecom.chain_corps cc
         on cc.upstream_corpid = e.upstream_corpid and cc.chain_id = e.chain_id and cc.corp_key = e.corp_key
       where e.occurred_at >= now() - interval '30 days'
         and (e.event_type = 'joined'
              or (e.event_type = 'added' and e.is_joined and e.occurred_at > c.first_seen_at
                  and cc.first_seen_at = e.occurred_at))
       group by 1 order by 1`,
    );
    expect(fromEvents.rows).toEqual([{ chain_id: 'chA', d7: 1, d30: 2 }]);
    const summary = await db.pool.query(
      `select chain_id, joined_last_7_days as d7, joined_last_30_days as d30 from wecom.chain_summary
       where joined_last_30_days > 0`,
    );
    expect(summary.rows).toEqual(fromEvents.rows);
  });

  it('chain_corp_events on hand-written versions', async () => {
    const { rows } = await db.pool.query(
      `select chain_id, event_type, entity_key, corp_key, occurred_at, run_id, old_value, new_value
       from wecom.chain_corp_events where chain_id in ('chA', 'chC') and event_type <> 'added'
       order by occurred_at, entity_key, event_type`,
    );
    expect(rows).toEqual([
      {
        chain_id: 'chA',
        event_type: 'removed',
        entity_key: 'wwa6',
        corp_key: 'wwa6',
        occurred_at: ago(10),
        run_id: 3,
        old_value: null,
        new_value: null,
      },
      {
        chain_id: 'chC',
        event_type: 'removed',
        entity_key: 'wwc1',
        corp_key: 'wwc1',
        occurred_at: ago(5),
        run_id: 3,
        old_value: null,
        new_value: null,
      },
      {
        chain_id: 'chA',
        event_type: 'joined',
        entity_key: 'pending:pa4',
        corp_key: 'wwa4',
        occurred_at: ago(2),
        run_id: 4,
        old_value: 'pending:pa4',
        new_value: 'wwa4',
      },
      {
        chain_id: 'chA',
        event_type: 'moved',
        entity_key: 'wwa3',
        corp_key: 'wwa3',
        occurred_at: ago(2),
        run_id: 4,
        old_value: '10',
        new_value: '11',
      },
    ]);
    const added = await db.pool.query(
      `select count(*)::int as n from wecom.chain_corp_events where event_type = 'added'`,
    );
    // One per entity.
    expect(added.rows[0].n).toBe(11);
  });

  it('sync_freshness: last success, its age, and the latest run, per upstream corp', async () => {
    const { rows } = await db.pool.query(
      `select upstream_corpid, last_success_at, extract(epoch from age)::float8 as age_s, last_run_id,
              last_run_status, last_run_started_at, last_run_finished_at, last_run_heartbeat_at
       from wecom.sync_freshness order by upstream_corpid`,
    );
    expect(rows).toEqual([
      {
        upstream_corpid: OTHER_UPSTREAM,
        last_success_at: null,
        age_s: null,
        last_run_id: 6,
        last_run_status: 'running',
        last_run_started_at: ago(0, 3),
        last_run_finished_at: null,
        last_run_heartbeat_at: ago(0, 170 / 60),
      },
      {
        upstream_corpid: UPSTREAM,
        last_success_at: new Date(ago(2).getTime() + 60_000),
        age_s: expect.any(Number),
        last_run_id: 5,
        last_run_status: 'failed',
        last_run_started_at: ago(0, 1),
        last_run_finished_at: new Date(ago(0, 1).getTime() + 60_000),
        last_run_heartbeat_at: now,
      },
    ]);
    // now() moved on since the fixture was written: the age is at least 2 days less a minute.
    expect(rows[1].age_s).toBeGreaterThanOrEqual(2 * 86_400 - 60);
    expect(rows[1].age_s).toBeLessThan(2 * 86_400 + 600);
  });

  describe('report', () => {
    /** The line as terminal cells: a wide character fills its cell and the next ('' marks the second). */
    const cells = (line: string) => [...line].flatMap((ch) => (displayWidth(ch) === 2 ? [ch, ''] : [ch]));

    /** Splits a table (header, rule, rows) into trimmed cell texts using the rule's column extents. */
    function parseTable(lines: string[]): string[][] {
      const rule = lines[1]!;
      const extents: [number, number][] = [];
      for (const m of rule.matchAll(/-+/g)) extents.push([m.index, m.index + m[0].length]);
      return lines.map((line) => {
        const c = cells(line);
        // Nothing may spill into the gaps between columns.
        for (let i = 1; i < extents.length; i++) {
          const gap = c.slice(extents[i - 1]![1], extents[i]![0]).join('');
          expect(gap.trim(), `gap before column ${i} in ${JSON.stringify(line)}`).toBe('');
        }
        return extents.map(([from, to]) => c.slice(from, to).join('').trim());
      });
    }

    it('prints both tables aligned by display width', async () => {
      const result = await runCli(['report'], { DATABASE_URL: db.url, TZ: 'Asia/Shanghai' });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const [chainsPart, freshnessPart] = result.stdout.split('\n\n');
      const chainLines = chainsPart!.split('\n');
      expect(chainLines[0]).toBe('Chains (qualification counts are of joined corps; times in Asia/Shanghai)');
      const chains = parseTable(chainLines.slice(1));
      expect(chains[0]).toEqual([
        'UPSTREAM',
        'CHAIN ID',
        'CHAIN',
        'GROUPS',
        'JOINED',
        'PENDING',
        'UNVERIFIED',
        'VERIFIED',
        'CERTIFIED',
        'UNKNOWN',
        'JOINED 7D',
        'JOINED 30D',
        'LAST SYNCED',
      ]);
      const shanghai = (d: Date) =>
        new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
      expect(chains.slice(2)).toEqual([
        [UPSTREAM, 'chB', 'Supply B', '1', '1', '1', '0', '1', '0', '0', '0', '0', shanghai(ago(2))],
        [UPSTREAM, 'chA', '华东供应链', '8', '5', '2', '1', '2', '1', '1', '1', '2', shanghai(ago(2))],
      ]);
      // Numbers are right-aligned: every row ends its GROUPS cell in the same terminal column.
      const groupsEnd = chainLines.slice(1).map((l) =>
        cells(l)
          .slice(0, cells(chainLines[1]!).join('').indexOf('GROUPS') + 6)
          .join(''),
      );
      expect(new Set(groupsEnd.map((s) => displayWidth(s))).size).toBe(1);

      const freshnessLines = freshnessPart!.trimEnd().split('\n');
      expect(freshnessLines[0]).toBe('Sync freshness');
      const freshness = parseTable(freshnessLines.slice(1));
      expect(freshness[0]).toEqual([
        'UPSTREAM',
        'LAST SUCCESS',
        'AGE',
        'LAST RUN',
        'STATUS',
        'STARTED',
        'FINISHED',
      ]);
      // Its heartbeat stopped 170 minutes ago: the process is gone, though no run has marked it aborted yet.
      expect(freshness[2]).toEqual([
        OTHER_UPSTREAM,
        '-',
        '-',
        '6',
        'running (no heartbeat for 2h 50m)',
        shanghai(ago(0, 3)),
        '-',
      ]);
      expect(freshness[3]!.slice(0, 2)).toEqual([UPSTREAM, shanghai(new Date(ago(2).getTime() + 60_000))]);
      expect(freshness[3]![2]).toMatch(/^2d 0h$|^1d 23h$/);
      expect(freshness[3]!.slice(3, 5)).toEqual(['5', 'failed']);
    });

    it('names a zone ICU has no name for by its offset, and shows times in it', async () => {
      // TZ set empty (an unfilled env file) is UTC to ICU, as Etc/Unknown, which Intl refuses by name.
      for (const [tz, offset, hours] of [
        ['', 'GMT+00:00', 0],
        ['CST-8', 'GMT+08:00', 8],
      ] as const) {
        const result = await runCli(['report'], { DATABASE_URL: db.url, TZ: tz });
        expect(result.stderr, tz).toBe('');
        expect(result.code, tz).toBe(0);
        const lines = result.stdout.split('\n');
        expect(lines[0]).toBe(
          `Chains (qualification counts are of joined corps; times in local time, ${offset} now)`,
        );
        const local = new Date(ago(2).getTime() + hours * 3_600_000)
          .toISOString()
          .slice(0, 19)
          .replace('T', ' ');
        expect(lines.find((l) => l.includes('Supply B'))?.trimEnd()).toMatch(new RegExp(`${local}$`));
      }
    });

    it('--json prints one JSON object for scripts', async () => {
      const result = await runCli(['report', '--json'], { DATABASE_URL: db.url });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
      const report = JSON.parse(result.stdout);
      const iso = (o: ReturnType<typeof summaryA>) => {
        const { last_run_id: _, ...rest } = o;
        return { ...rest, last_synced_at: o.last_synced_at.toISOString() };
      };
      expect(report.chains).toEqual([iso(summaryB()), iso(summaryA())]);
      expect(report.freshness).toEqual([
        {
          upstream_corpid: OTHER_UPSTREAM,
          last_success_at: null,
          age_seconds: null,
          last_run_id: 6,
          last_run_status: 'running',
          last_run_started_at: ago(0, 3).toISOString(),
          last_run_finished_at: null,
          last_run_heartbeat_at: ago(0, 170 / 60).toISOString(),
          last_run_heartbeat_age_seconds: expect.closeTo(170 * 60, -2),
        },
        {
          upstream_corpid: UPSTREAM,
          last_success_at: new Date(ago(2).getTime() + 60_000).toISOString(),
          age_seconds: expect.any(Number),
          last_run_id: 5,
          last_run_status: 'failed',
          last_run_started_at: ago(0, 1).toISOString(),
          last_run_finished_at: new Date(ago(0, 1).getTime() + 60_000).toISOString(),
          last_run_heartbeat_at: now.toISOString(),
          last_run_heartbeat_age_seconds: expect.any(Number),
        },
      ]);
    });

    it('shows a running run with a recent heartbeat as running', () => {
      const run = {
        upstream_corpid: 'wwlive',
        last_success_at: null,
        age_seconds: null,
        last_run_id: 1,
        last_run_status: 'running',
        last_run_started_at: now,
        last_run_finished_at: null,
        last_run_heartbeat_at: now,
      };
      const status = (age: number) =>
        reportText({ chains: [], freshness: [{ ...run, last_run_heartbeat_age_seconds: age }] })
          .split('\n')
          .at(-2);
      // A live run gives up its lock 40 s after its last heartbeat saved, at the latest.
      expect(status(49)).toMatch(/ running +\d{4}-/);
      expect(status(51)).toMatch(/ running \(no heartbeat for 51s\) +\d{4}-/);
    });

    it('needs a migrated database, reachable, and names the variable that chose it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'wcs-report-'));
      try {
        // No DATABASE_URL: the embedded database, here a new one.
        const embedded = await runCli(['report'], { PGLITE_DIR: dir });
        expect(embedded.code).toBe(3);
        expect(embedded.stderr).toMatch(
          /^wecom-chain-sync: PGLITE_DIR: .* run "wecom-chain-sync migrate" first\n$/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const unreachable = await runCli(['report'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
      expect(unreachable.code).toBe(5);
      const bare = await createTestDatabase({ migrate: false });
      try {
        const result = await runCli(['report', '--json'], { DATABASE_URL: bare.url });
        expect(result.code).toBe(3);
        expect(result.stdout).toBe('');
        expect(result.stderr.trim().split('\n')).toHaveLength(1);
        expect(result.stderr).toMatch(
          /^wecom-chain-sync: DATABASE_URL: .* run "wecom-chain-sync migrate" first\n$/,
        );
      } finally {
        await bare.drop();
      }
      // A database the last migration has not reached: the view lacks a column this version reads.
      const older = await createTestDatabase();
      try {
        await older.pool.query(
          'alter view wecom.sync_freshness rename column last_run_heartbeat_at to unknown',
        );
        await older.pool.query(FIXTURE_SQL);
        const result = await runCli(['report'], { DATABASE_URL: older.url });
        expect(result.code).toBe(3);
        expect(result.stderr).toMatch(
          /^wecom-chain-sync: DATABASE_URL: .* run "wecom-chain-sync migrate" first\n$/,
        );
      } finally {
        await older.drop();
      }
    });
  });
});
