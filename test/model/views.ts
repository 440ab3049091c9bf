// The reporting views recomputed in TypeScript from the (already compared) tables, by what
// docs/schema.md says each column means, and compared row for row with what the views return.
import type { Queryable } from '../../src/db/database.ts';
import { diffRows, rowsOf, sameJson } from './diff.ts';
import { checkEvents } from './events.ts';

// biome-ignore lint/suspicious/noExplicitAny: rows straight from the queries below
type Row = any;

export async function checkViews(db: Queryable, upstream: string): Promise<string[]> {
  const problems = await checkEvents(db, upstream);
  const tables = await currentTables(db, upstream);
  const tree = groupTree(tables.groups);
  problems.push(...(await checkGroupTree(db, upstream, tables, tree)));
  problems.push(...(await checkCorpsCurrent(db, upstream, tables, tree)));
  problems.push(...(await checkChainSummary(db, upstream, tables)));
  problems.push(...(await checkFreshness(db, upstream)));
  return problems;
}

interface Tables {
  chains: Row[];
  /** Current groups only: the views never show a removed one. */
  groups: Row[];
  corps: Row[];
  groupsByKey: Map<string, Row>;
}

async function currentTables(db: Queryable, upstream: string): Promise<Tables> {
  const groups = await rowsOf(
    db,
    `select chain_id, groupid, group_name, parentid, sort_order from wecom.chain_groups
     where upstream_corpid = $1 and removed_at is null`,
    [upstream],
  );
  const chains = await rowsOf(
    db,
    `select chain_id, chain_name, removed_at is null cur, extract(epoch from first_seen_at) fe,
            last_synced_at::text s, last_run_id from wecom.chains where upstream_corpid = $1`,
    [upstream],
  );
  const corps = await rowsOf(
    db,
    `select chain_id, corp_key, corpid, pending_corpid, corp_name, custom_id, is_joined, qualification_status,
            groupid, invite_userid, details_fetched_at::text d, first_seen_at::text f,
            extract(epoch from first_seen_at) fe, updated_at::text u, removed_at is null cur
     from wecom.chain_corps where upstream_corpid = $1`,
    [upstream],
  );
  return {
    chains,
    groups,
    corps,
    groupsByKey: new Map(groups.map((g) => [`${g.chain_id}/${g.groupid}`, g])),
  };
}

interface TreeNode {
  depth: number;
  ids: number[];
  names: string[];
  path: string;
  parentVisible: boolean;
  pathComplete: boolean;
}

/**
 * Each current group's path from the highest ancestor the app can see, cut where a parent is unknown or
 * would repeat (a cycle); complete when that ancestor hangs off the root (1).
 */
function groupTree(groups: Row[]): Map<string, TreeNode> {
  const byKey = new Map(groups.map((g) => [`${g.chain_id}/${g.groupid}`, g]));
  const tree = new Map<string, TreeNode>();
  for (const g of groups) {
    const ids = [g.groupid];
    const names = [g.group_name];
    let top = g;
    for (;;) {
      const parent = byKey.get(`${g.chain_id}/${top.parentid}`);
      if (!parent || ids.includes(parent.groupid)) break;
      ids.unshift(parent.groupid);
      names.unshift(parent.group_name);
      top = parent;
    }
    const parentVisible = g.parentid === 1 || byKey.has(`${g.chain_id}/${g.parentid}`);
    const node = {
      depth: ids.length,
      ids,
      names,
      path: names.join(' / '),
      parentVisible,
      pathComplete: top.parentid === 1,
    };
    tree.set(`${g.chain_id}/${g.groupid}`, node);
  }
  return tree;
}

async function checkGroupTree(db: Queryable, upstream: string, t: Tables, tree: Map<string, TreeNode>) {
  const expected = t.groups.map((g) => {
    const n = tree.get(`${g.chain_id}/${g.groupid}`)!;
    const own = [g.chain_id, g.groupid, g.group_name, g.parentid, g.sort_order];
    return [...own, n.depth, n.ids, n.names, n.path, n.parentVisible, n.pathComplete];
  });
  const stored = await rowsOf(
    db,
    `select chain_id, groupid, group_name, parentid, sort_order, depth, path_ids, path_names, path,
            parent_visible, path_complete
     from wecom.group_tree where upstream_corpid = $1`,
    [upstream],
  );
  const problems: string[] = [];
  diffRows(
    'group_tree',
    expected,
    stored.map((r) => Object.values({ ...r, path_ids: r.path_ids?.map(Number) })),
    problems,
  );
  return problems;
}

const qualificationName = (s: number | null) =>
  s === 1 ? 'unverified' : s === 2 ? 'verified' : s === 3 ? 'certified' : 'unknown';

/** Current corps of current chains, with their group's place in the tree (the root: depth 0, empty path). */
async function checkCorpsCurrent(db: Queryable, upstream: string, t: Tables, tree: Map<string, TreeNode>) {
  const chains = new Map(t.chains.map((c) => [c.chain_id, c]));
  const expected = t.corps
    .filter((c) => c.cur && chains.get(c.chain_id)?.cur)
    .map((c) => {
      const node = tree.get(`${c.chain_id}/${c.groupid}`);
      const root = c.groupid === 1;
      const groupName = root || !node ? null : t.groupsByKey.get(`${c.chain_id}/${c.groupid}`).group_name;
      const place = root
        ? [groupName, 0, [], [], '']
        : [groupName, node?.depth ?? null, node?.ids ?? null, node?.names ?? null, node?.path ?? null];
      return [
        ...[
          c.chain_id,
          chains.get(c.chain_id).chain_name,
          c.corp_key,
          c.corpid,
          c.pending_corpid,
          c.corp_name,
        ],
        ...[
          c.custom_id,
          c.is_joined,
          c.qualification_status,
          qualificationName(c.qualification_status),
          c.groupid,
        ],
        ...place,
        ...[c.invite_userid, c.d, c.f, c.u],
      ];
    });
  const stored = await rowsOf(
    db,
    `select chain_id, chain_name, corp_key, corpid, pending_corpid, corp_name, custom_id, is_joined,
            qualification_status, qualification, groupid, group_name, group_depth, group_path_ids,
            group_path_names, group_path, invite_userid, details_fetched_at::text d, first_seen_at::text f,
            updated_at::text u
     from wecom.corps_current where upstream_corpid = $1`,
    [upstream],
  );
  const problems: string[] = [];
  const shown = stored.map((r) =>
    Object.values({ ...r, group_path_ids: r.group_path_ids?.map(Number) ?? null }),
  );
  diffRows('corps_current', expected, shown, problems);
  return problems;
}

/**
 * Counts per current chain. Joins are 'joined' events plus 'added' events of a joined corp after the
 * chain's first sync at the corp's own first_seen_at; every run here is within 7 days, so both windows
 * count them all.
 */
async function checkChainSummary(db: Queryable, upstream: string, t: Tables) {
  const events = await rowsOf(
    db,
    `select chain_id, corp_key, event_type, is_joined, extract(epoch from occurred_at) oe
     from wecom.chain_corp_events where upstream_corpid = $1`,
    [upstream],
  );
  const firstSeen = new Map(t.corps.map((c) => [`${c.chain_id}/${c.corp_key}`, Number(c.fe)]));
  const isJoin = (e: Row, chain: Row) =>
    e.chain_id === chain.chain_id &&
    (e.event_type === 'joined' ||
      (e.event_type === 'added' &&
        e.is_joined &&
        Number(e.oe) > Number(chain.fe) &&
        firstSeen.get(`${e.chain_id}/${e.corp_key}`) === Number(e.oe)));
  const expected = t.chains
    .filter((c) => c.cur)
    .map((c) => {
      const current = t.corps.filter((x) => x.chain_id === c.chain_id && x.cur);
      const joined = current.filter((x) => x.is_joined);
      const withStatus = (s: number) => joined.filter((x) => x.qualification_status === s).length;
      const unknown = joined.filter((x) => ![1, 2, 3].includes(x.qualification_status)).length;
      const joins = events.filter((e) => isJoin(e, c)).length;
      const groups = t.groups.filter((g) => g.chain_id === c.chain_id).length;
      return [
        ...[c.chain_id, c.chain_name, groups, joined.length, current.length - joined.length],
        ...[withStatus(1), withStatus(2), withStatus(3), unknown, joins, joins, c.s, c.last_run_id],
      ];
    });
  const stored = await rowsOf(
    db,
    `select chain_id, chain_name, groups, corps_joined, corps_pending, corps_unverified, corps_verified,
            corps_certified, corps_qualification_unknown, joined_last_7_days, joined_last_30_days,
            last_synced_at::text s, last_run_id
     from wecom.chain_summary where upstream_corpid = $1`,
    [upstream],
  );
  const problems: string[] = [];
  diffRows('chain_summary', expected, stored.map(Object.values), problems);
  return problems;
}

/** The latest run (by start) and the latest success (by finish) of the upstream. */
async function checkFreshness(db: Queryable, upstream: string): Promise<string[]> {
  const runs = await rowsOf(
    db,
    `select id, status::text status, started_at::text st, finished_at::text fi, extract(epoch from started_at) se
     from wecom.sync_runs where upstream_corpid = $1`,
    [upstream],
  );
  const last = [...runs].sort((a, b) => Number(b.se) - Number(a.se) || b.id - a.id)[0];
  const [{ m }] = await rowsOf(
    db,
    `select max(finished_at)::text m from wecom.sync_runs where upstream_corpid = $1 and status = 'succeeded'`,
    [upstream],
  );
  const expected = [upstream, m, last.id, last.status, last.st, last.fi];
  const stored = await rowsOf(
    db,
    `select upstream_corpid, last_success_at::text, last_run_id, last_run_status, last_run_started_at::text,
            last_run_finished_at::text
     from wecom.sync_freshness where upstream_corpid = $1`,
    [upstream],
  );
  if (stored.length === 1 && sameJson(Object.values(stored[0]), expected)) return [];
  return [`sync_freshness: expected ${JSON.stringify(expected)} got ${JSON.stringify(stored)}`];
}
