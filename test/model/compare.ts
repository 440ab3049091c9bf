// The database against the expected model after a run: every row of the three tables and both histories,
// field by field with timestamps, the invariants the doc states on the history, and which rows the run
// rewrote. The reporting views are checked only once the tables are known right (views.ts).
import type { Queryable } from '../../src/db/database.ts';
import { diffRows, rowsOf, sameJson } from './diff.ts';
import type { ExpectedStore } from './expected.ts';
import { mergeInstant, removalInstant } from './expected-state.ts';
import { checkViews } from './views.ts';
import { checkWrites, type RowVersions } from './xmin.ts';

export interface RunFacts {
  upstream: string;
  runId: number;
  /** Chains this run merged. */
  completed: Set<string>;
  /** Whether the run got a complete chain list (and so removed the chains it left out). */
  listed: boolean;
  /** Row versions before the run. */
  before: RowVersions;
}

export async function compareWithModel(
  db: Queryable,
  model: ExpectedStore,
  run: RunFacts,
): Promise<string[]> {
  const problems: string[] = [];
  await resolveInstants(db, model, run, problems);
  problems.push(...(await compareStored(db, model, run.upstream)));
  problems.push(...(await checkInvariants(db)));
  problems.push(...(await checkWrites(db, model.tally.writes, run)));
  if (problems.length) return problems;
  return checkViews(db, run.upstream);
}

/**
 * One upstream's three tables and both histories, row for row: after its own run, and after every run of
 * another upstream, which must leave them as they were.
 */
export async function compareStored(
  db: Queryable,
  model: ExpectedStore,
  upstream: string,
): Promise<string[]> {
  return [
    ...(await compareChains(db, model, upstream)),
    ...(await compareGroups(db, model, upstream)),
    ...(await compareCorps(db, model, upstream)),
    ...(await compareGroupHistory(db, model, upstream)),
    ...(await compareCorpHistory(db, model, upstream)),
  ];
}

/**
 * Learns this run's instants from the rows that carry them (a merged chain's last_synced_at, a removed
 * chain's removed_at); every other row stamped by the same transaction must then carry the same text.
 */
async function resolveInstants(db: Queryable, model: ExpectedStore, run: RunFacts, problems: string[]) {
  const chains = await rowsOf(
    db,
    'select chain_id, removed_at::text r, last_synced_at::text s from wecom.chains where upstream_corpid = $1',
    [run.upstream],
  );
  for (const r of chains)
    if (run.completed.has(r.chain_id)) model.instants.set(mergeInstant(run.runId, r.chain_id), r.s);
  const removal = removalInstant(run.runId);
  const removed = [...model.chains.entries()].find(([, st]) => st.chain.removed === removal);
  if (run.listed && removed) {
    const row = chains.find((x) => x.chain_id === removed[0]);
    model.instants.set(removal, row?.r ?? 'UNRESOLVED');
  }
  const [span] = await rowsOf(
    db,
    'select started_at::text st, finished_at::text fi from wecom.sync_runs where id = $1',
    [run.runId],
  );
  for (const [symbol, text] of model.instants) {
    if (!symbol.startsWith(`${run.runId}|`) || text === null) continue;
    const [{ ok }] = await rowsOf(
      db,
      'select $1::timestamptz between $2::timestamptz and $3::timestamptz ok',
      [text, span.st, span.fi],
    );
    if (!ok) problems.push(`instant ${symbol}=${text} outside run ${span.st}..${span.fi}`);
  }
}

async function compareChains(db: Queryable, model: ExpectedStore, upstream: string): Promise<string[]> {
  const problems: string[] = [];
  const rows = await rowsOf(
    db,
    `select chain_id, chain_name, first_seen_at::text f, updated_at::text u, removed_at::text r,
            last_synced_at::text s, last_run_id from wecom.chains where upstream_corpid = $1`,
    [upstream],
  );
  const stored = new Map(rows.map((r) => [r.chain_id, r]));
  const at = (i: string | null) => model.resolve(i);
  for (const [chainId, { chain: m }] of model.chains) {
    const d = stored.get(chainId);
    const exp = {
      name: m.name,
      f: at(m.firstSeen),
      u: at(m.updated),
      r: at(m.removed),
      s: at(m.lastSynced),
      run: m.lastRun,
    };
    const got = d && { name: d.chain_name, f: d.f, u: d.u, r: d.r, s: d.s, run: d.last_run_id };
    if (!sameJson(exp, got))
      problems.push(`chains ${chainId}: expected ${JSON.stringify(exp)} got ${JSON.stringify(got)}`);
  }
  for (const chainId of stored.keys())
    if (!model.chains.has(chainId)) problems.push(`chains: unexpected row ${chainId}`);
  return problems;
}

async function compareGroups(db: Queryable, model: ExpectedStore, upstream: string): Promise<string[]> {
  const rows = await rowsOf(
    db,
    `select chain_id, groupid, group_name, parentid, sort_order, first_seen_at::text f, updated_at::text u,
            removed_at::text r, changed_run_id from wecom.chain_groups where upstream_corpid = $1`,
    [upstream],
  );
  const at = (i: string | null) => model.resolve(i);
  const expected = [...model.chains].flatMap(([cid, st]) =>
    [...st.groups.values()].map((g) => [
      cid,
      g.groupid,
      g.name,
      g.parentid,
      g.order,
      at(g.firstSeen),
      at(g.updated),
      at(g.removed),
      g.changedRun,
    ]),
  );
  const stored = rows.map((d) => [
    d.chain_id,
    d.groupid,
    d.group_name,
    d.parentid,
    d.sort_order,
    d.f,
    d.u,
    d.r,
    d.changed_run_id,
  ]);
  const problems: string[] = [];
  diffRows('chain_groups', expected, stored, problems);
  return problems;
}

async function compareCorps(db: Queryable, model: ExpectedStore, upstream: string): Promise<string[]> {
  const rows = await rowsOf(
    db,
    `select chain_id, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid, is_joined,
            qualification_status, details_fetched_at::text d, first_seen_at::text f, updated_at::text u,
            removed_at::text r, changed_run_id
     from wecom.chain_corps where upstream_corpid = $1`,
    [upstream],
  );
  const at = (i: string | null) => model.resolve(i);
  const expected = [...model.chains].flatMap(([cid, st]) =>
    [...st.corps.values()].map((c) => [
      ...[cid, c.key, c.corpid, c.pending, c.name, c.custom, c.groupid, c.invite, c.joined, c.qual],
      ...[at(c.detailsAt), at(c.firstSeen), at(c.updated), at(c.removed), c.changedRun],
    ]),
  );
  const stored = rows.map((d) => [
    ...[
      d.chain_id,
      d.corp_key,
      d.corpid,
      d.pending_corpid,
      d.corp_name,
      d.custom_id,
      d.groupid,
      d.invite_userid,
    ],
    ...[d.is_joined, d.qualification_status, d.d, d.f, d.u, d.r, d.changed_run_id],
  ]);
  const problems: string[] = [];
  diffRows('chain_corps', expected, stored, problems);
  return problems;
}

async function compareGroupHistory(db: Queryable, model: ExpectedStore, upstream: string): Promise<string[]> {
  const rows = await rowsOf(
    db,
    `select chain_id, groupid, group_name, parentid, sort_order, valid_from::text vf, valid_to::text vt,
            opened_run_id, closed_run_id
     from wecom.chain_group_history where upstream_corpid = $1`,
    [upstream],
  );
  const at = (i: string | null) => model.resolve(i);
  const expected = [...model.chains].flatMap(([cid, st]) =>
    st.groupVersions.map((v) => [
      cid,
      v.groupid,
      v.name,
      v.parentid,
      v.order,
      at(v.from),
      at(v.to),
      v.opened,
      v.closed,
    ]),
  );
  const stored = rows.map((d) => [
    ...[d.chain_id, d.groupid, d.group_name, d.parentid, d.sort_order],
    ...[d.vf, d.vt, d.opened_run_id, d.closed_run_id],
  ]);
  const problems: string[] = [];
  diffRows('chain_group_history', expected, stored, problems);
  return problems;
}

/** Versions with their entity_key: where the link rule shows. */
async function compareCorpHistory(db: Queryable, model: ExpectedStore, upstream: string): Promise<string[]> {
  const rows = await rowsOf(
    db,
    `select chain_id, entity_key, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid,
            is_joined, qualification_status, valid_from::text vf, valid_to::text vt, opened_run_id, closed_run_id
     from wecom.chain_corp_history where upstream_corpid = $1`,
    [upstream],
  );
  const at = (i: string | null) => model.resolve(i);
  const expected = [...model.chains].flatMap(([cid, st]) =>
    st.corpVersions.map((v) => [
      ...[cid, v.entity, v.key, v.corpid, v.pending, v.name, v.custom, v.groupid, v.invite, v.joined, v.qual],
      ...[at(v.from), at(v.to), v.opened, v.closed],
    ]),
  );
  const stored = rows.map((d) => [
    ...[
      d.chain_id,
      d.entity_key,
      d.corp_key,
      d.corpid,
      d.pending_corpid,
      d.corp_name,
      d.custom_id,
      d.groupid,
    ],
    ...[d.invite_userid, d.is_joined, d.qualification_status, d.vf, d.vt, d.opened_run_id, d.closed_run_id],
  ]);
  const problems: string[] = [];
  diffRows('chain_corp_history', expected, stored, problems);
  return problems;
}

/** Straight on the database, for every upstream: one open version per current row, none per removed one. */
async function checkInvariants(db: Queryable): Promise<string[]> {
  const problems: string[] = [];
  const open = await rowsOf(
    db,
    `select 'corp ' || c.chain_id || '/' || c.corp_key as k, c.removed_at is null as cur,
       (select count(*) from wecom.chain_corp_history h where h.upstream_corpid = c.upstream_corpid
          and h.chain_id = c.chain_id and h.corp_key = c.corp_key and h.valid_to is null)::int as open
     from wecom.chain_corps c
     union all
     select 'group ' || g.chain_id || '/' || g.groupid, g.removed_at is null,
       (select count(*) from wecom.chain_group_history h where h.upstream_corpid = g.upstream_corpid
          and h.chain_id = g.chain_id and h.groupid = g.groupid and h.valid_to is null)::int
     from wecom.chain_groups g`,
  );
  for (const r of open)
    if (r.open !== (r.cur ? 1 : 0))
      problems.push(`invariant: ${r.k} current=${r.cur} has ${r.open} open versions`);
  const empty = await rowsOf(
    db,
    `select id from wecom.chain_corp_history where valid_to <= valid_from
     union all select id from wecom.chain_group_history where valid_to <= valid_from`,
  );
  if (empty.length)
    problems.push(`invariant: versions with valid_to <= valid_from: ${empty.map((r) => r.id)}`);
  return problems;
}
