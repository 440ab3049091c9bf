// The SQL that turns one chain's staged crawl into the stored truth. Every statement skips rows whose
// values did not change: an unchanged row is never rewritten, so a no-change re-sync writes almost no WAL.
// Parameters: $1 upstream_corpid, $2 chain_id, $3 run id (unless noted otherwise) and $4 as noted.
import { LISTED, STAGE, type StageColumn, type StageRow } from './stage-rows.ts';

// The stage's table and the columns a listing gives are stage-rows.ts's lists, which the COPY follows too.
const definition = (c: StageColumn<StageRow>) => `${c.name} ${c.type}${c.notNull ? ' not null' : ''}`;

export const CREATE_STAGE = `create temp table if not exists wcs_stage_corps (${STAGE.map(definition).join(', ')})`;

export const TRUNCATE_STAGE = 'truncate pg_temp.wcs_stage_corps';

/**
 * Before a chain is staged: its connection's stage is empty (the chain before truncated it as it closed), but
 * is made so in case it is not. A TRUNCATE of the empty table would write the catalogs for nothing (2-3 ms).
 */
export const EMPTY_STAGE = 'delete from pg_temp.wcs_stage_corps';

export const STAGE_COLUMNS = `pg_temp.wcs_stage_corps (${STAGE.map((c) => c.name).join(', ')})`;

const listed = (alias: string) => `(${LISTED.map((c) => `${alias}.${c.name}`).join(', ')})`;

/** $3 a limit: the chain's current corps, counted up to it; and whether this role may stage. */
export const OPEN_STAGE = `
select count(*)::int as current, has_database_privilege(current_database(), 'temporary') as may_create_temp
from (
  select 1 from wecom.chain_corps where upstream_corpid = $1 and chain_id = $2 and removed_at is null limit $3
) c`;

/**
 * $3 a listing held in memory, a JSON array of [corp_key, ...LISTED] with each corp_key once. It is exactly
 * the chain's current corps as stored, which MERGE_CORPS and REMOVE_CORPS would leave as they are (no corp
 * has details staged), when `matched` and `current` both equal its length.
 */
export const UNCHANGED_CORPS = `
with s as (
  select e->>0 as corp_key,
    ${LISTED.map((c, i) => `(e->>${i + 1})::${c.type} as ${c.name}`).join(', ')}
  from jsonb_array_elements($3::jsonb) e
)
select
  (select count(*) from wecom.chain_corps
   where upstream_corpid = $1 and chain_id = $2 and removed_at is null)::int as current,
  (select count(*) from s join wecom.chain_corps c
     on c.upstream_corpid = $1 and c.chain_id = $2 and c.corp_key = s.corp_key
   where c.removed_at is null and ${listed('c')} is not distinct from ${listed('s')})::int as matched`;

/**
 * $3 at most this many: the chain's current corps that nothing staged, which the merge would mark removed.
 * Run after MISSING_SETTINGS, in a transaction of its own: the stage has no statistics, and without a hash
 * anti-join with room for the chain's keys the planner sorts both sides to disk (1.2 s for a chain of 333k
 * corps, against 0.25 s).
 */
export const MISSING_CORPS = `
select c.corpid, c.pending_corpid, c.corp_name, c.custom_id, c.groupid, c.invite_userid
from wecom.chain_corps c
where c.upstream_corpid = $1 and c.chain_id = $2 and c.removed_at is null
  and not exists (select 1 from pg_temp.wcs_stage_corps s where s.corp_key = c.corp_key)
limit $3`;

export const MISSING_SETTINGS = `select set_config('enable_nestloop', 'off', true),
  set_config('enable_mergejoin', 'off', true), set_config('work_mem', '64MB', true)`;

/** $1 a listing: what it staged is forgotten, as the group is listed again from the start. */
export const DISCARD_LISTING = 'delete from pg_temp.wcs_stage_corps where listing = $1';

/** $3 the corp_keys of a listed page's joined corps. */
export const LOOKUP_CORPS = `
select corp_key, corp_name, custom_id, groupid, invite_userid, details_fetched_at, removed_at is not null as removed
from wecom.chain_corps
where upstream_corpid = $1 and chain_id = $2 and corp_key = any($3::text[])`;

/**
 * Set first in every merge transaction. The planner cannot know how many rows a merge changed: they carry a
 * run id that no statistics have seen, so it estimates one, and with one-row estimates it joins by nested
 * loops that rescan the other side for every row. When every corp changed (a re-import, a reorganised group
 * tree) or every pending corp joined, that is quadratic: 33 s instead of 2 s for 30,000 renamed corps (hours,
 * extrapolated, at a million). Hash and merge joins stay linear whatever the estimates, and the stage needs
 * no index and no statistics: every join reads it whole, once. JIT off too: a merge's estimated cost grows
 * with its chain (38,000 for 13,000 corps), and past jit_above_cost (100,000) PostgreSQL first compiles the
 * statement, up to a second for one that runs once; a statement that still needed a nested loop would carry
 * the planner's 10^10 penalty. Both settings end with the transaction.
 */
export const MERGE_SETTINGS = `select set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)`;

/**
 * $1 run id. Read in every transaction that writes a chain, once it holds the chain's row: a process cut off
 * long enough for another sync to take its lock over (run-lock.ts), and then resumed, finds its run marked
 * aborted and writes nothing. Read after the row lock, a status of 'running' means the new sync's writes to
 * that chain, which need the same row, come after this transaction, and win; read before it, the process
 * could freeze between the two and merge a stale crawl over the new sync's. The run's row itself is not
 * locked: that would hold up its own heartbeat.
 */
export const RUN_STATUS = 'select status from wecom.sync_runs where id = $1';

/** Returns the chain's previous name and state, locking the row against a concurrent writer. */
export const LOCK_CHAIN = `
select chain_name, removed_at is not null as removed
from wecom.chains where upstream_corpid = $1 and chain_id = $2 for update`;

/** $4 chain_name. last_synced_at moves on every complete crawl; updated_at only when the name changes. */
export const UPSERT_CHAIN = `
insert into wecom.chains as t (upstream_corpid, chain_id, chain_name, last_synced_at, last_run_id)
values ($1, $2, $4, now(), $3)
on conflict (upstream_corpid, chain_id) do update set
  chain_name = excluded.chain_name,
  updated_at = case when t.chain_name is distinct from excluded.chain_name or t.removed_at is not null
                    then now() else t.updated_at end,
  removed_at = null,
  last_synced_at = excluded.last_synced_at,
  last_run_id = excluded.last_run_id`;

/** $4 the chain's groups as a JSON array of {groupid, group_name, parentid, sort_order}. */
export const MERGE_GROUPS = `
with incoming as (
  select * from jsonb_to_recordset($4::jsonb) as g(groupid bigint, group_name text, parentid bigint, sort_order bigint)
), changes as (
  select i.* from incoming i
  left join wecom.chain_groups c on c.upstream_corpid = $1 and c.chain_id = $2 and c.groupid = i.groupid
  where c.groupid is null or c.removed_at is not null
     or (c.group_name, c.parentid, c.sort_order) is distinct from (i.group_name, i.parentid, i.sort_order)
), written as (
  insert into wecom.chain_groups as t (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order, changed_run_id)
  select $1, $2, groupid, group_name, parentid, sort_order, $3 from changes
  on conflict (upstream_corpid, chain_id, groupid) do update set
    group_name = excluded.group_name, parentid = excluded.parentid, sort_order = excluded.sort_order,
    updated_at = now(), removed_at = null, changed_run_id = excluded.changed_run_id
  returning (xmax = 0) as inserted
)
select (select count(*) from incoming)::int as seen,
       count(*) filter (where inserted)::int as inserted,
       count(*) filter (where not inserted)::int as updated
from written`;

/** $4 the groupids the crawl returned. */
export const REMOVE_GROUPS = `
update wecom.chain_groups set removed_at = now(), updated_at = now(), changed_run_id = $3
where upstream_corpid = $1 and chain_id = $2 and removed_at is null and groupid <> all($4::bigint[])`;

// A corp listed twice in one crawl is stored once: the record of the page that came last wins (seq).
// Corps and their versions are inserted in corp_key order, the order of every index that starts with the
// chain: each insertion then lands next to the previous one, in a B-tree page already in cache (30k history
// rows took 17% longer to insert in groupid order, and the gap grows once the indexes outgrow the cache).
// changed_run_id carries "a tracked value changed" from the select into ON CONFLICT: null means only the
// details timestamp moved, which refreshes details_fetched_at without touching updated_at.
// A staged qualification_status is null when no details were fetched, or when they came back without one
// (WeCom documents it for every joined corp): either way the stored status stands, unchanged.
export const MERGE_CORPS = `
with s as (
  select distinct on (corp_key) * from pg_temp.wcs_stage_corps order by corp_key, seq desc
), changes as (
  select s.*,
    c.corp_key is null or c.removed_at is not null
      or ${listed('c')} is distinct from ${listed('s')}
      or (s.qualification_status is not null and c.qualification_status is distinct from s.qualification_status) as changed
  from s
  left join wecom.chain_corps c on c.upstream_corpid = $1 and c.chain_id = $2 and c.corp_key = s.corp_key
), written as (
  insert into wecom.chain_corps as t (upstream_corpid, chain_id, corp_key, corpid, pending_corpid, corp_name,
    custom_id, groupid, invite_userid, is_joined, qualification_status, details_fetched_at, changed_run_id)
  select $1, $2, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid, is_joined,
    qualification_status, case when details_fetched then now() end, case when changed then $3::bigint end
  from changes where changed or details_fetched
  order by corp_key
  on conflict (upstream_corpid, chain_id, corp_key) do update set
    corpid = excluded.corpid, pending_corpid = excluded.pending_corpid, corp_name = excluded.corp_name,
    custom_id = excluded.custom_id, groupid = excluded.groupid, invite_userid = excluded.invite_userid,
    is_joined = excluded.is_joined,
    qualification_status = coalesce(excluded.qualification_status, t.qualification_status),
    details_fetched_at = coalesce(excluded.details_fetched_at, t.details_fetched_at),
    updated_at = case when excluded.changed_run_id is null then t.updated_at else now() end,
    removed_at = null,
    changed_run_id = coalesce(excluded.changed_run_id, t.changed_run_id)
  returning (xmax = 0) as inserted, changed_run_id = $3 as changed
)
select (select count(*) from s)::int as seen,
       count(*) filter (where inserted)::int as inserted,
       count(*) filter (where not inserted and changed)::int as updated
from written`;

/** Whether the chain has any corp row at all, removed ones included: none means a first load (FIRST_CORPS). */
export const CHAIN_HAS_CORPS = `
select exists (select 1 from wecom.chain_corps where upstream_corpid = $1 and chain_id = $2) as stored`;

/**
 * MERGE_CORPS and CORP_HISTORY for a chain with no corp rows yet, in one statement: every staged corp is new,
 * so there is nothing to compare, update, remove or close, and each corp's first version opens its own entity
 * (a pending corp that could continue it would be a row of this chain). The versions come from what the insert
 * returns, not from reading the chain back. Decided under the chain's row lock, which every writer of its corps
 * holds: "no rows" still holds when the statement runs. bench/write-path.ts's first-load pass measures it
 * (docs/benchmarks.md, tenth round).
 */
export const FIRST_CORPS = `
with s as (
  select distinct on (corp_key) * from pg_temp.wcs_stage_corps order by corp_key, seq desc
), written as (
  insert into wecom.chain_corps (upstream_corpid, chain_id, corp_key, corpid, pending_corpid, corp_name,
    custom_id, groupid, invite_userid, is_joined, qualification_status, details_fetched_at, changed_run_id)
  select $1, $2, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid, is_joined,
    qualification_status, case when details_fetched then now() end, $3
  from s
  order by corp_key
  returning corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid, is_joined,
    qualification_status
), versions as (
  insert into wecom.chain_corp_history (upstream_corpid, chain_id, entity_key, corp_key, corpid, pending_corpid,
    corp_name, custom_id, groupid, invite_userid, is_joined, qualification_status, valid_from, opened_run_id)
  select $1, $2, corp_key, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid, invite_userid,
    is_joined, qualification_status, now(), $3
  from written
)
select count(*)::int as inserted from written`;

/**
 * Corps whose details call failed for them alone: their details are due again, whatever made them due
 * this time (a rename, a move, a return), which MERGE_CORPS (or FIRST_CORPS) has just stored as if seen.
 * Returns how many corps were stored so, without new details. Run only when the crawl had such failures; the
 * staged record that the merge took decides (a refusal that a listing started again superseded does not
 * count).
 */
export const DETAILS_DUE_AGAIN = `
with refused as (
  select corp_key from (select distinct on (corp_key) corp_key, details_failed from pg_temp.wcs_stage_corps
                        order by corp_key, seq desc) s
  where s.details_failed
), due as (
  update wecom.chain_corps c set details_fetched_at = null from refused r
  where c.upstream_corpid = $1 and c.chain_id = $2 and c.corp_key = r.corp_key and c.details_fetched_at is not null
)
select count(*)::int as refused from refused`;

// A row this transaction just wrote came from the stage: skipping it by its xmin spares each corp the merge
// inserted or changed a stage lookup. (Not by changed_run_id: a caller may merge the same chain twice under one run.)
// Its updated_at as well: a frozen row keeps its xmin, which the 32-bit id of a transaction 2^32 later repeats.
// A row whose details alone were refreshed kept its updated_at, and costs a lookup.
export const REMOVE_CORPS = `
update wecom.chain_corps t set removed_at = now(), updated_at = now(), changed_run_id = $3
where t.upstream_corpid = $1 and t.chain_id = $2 and t.removed_at is null
  and not (t.xmin = pg_current_xact_id()::xid and t.updated_at = now())
  and not exists (select 1 from pg_temp.wcs_stage_corps s where s.corp_key = t.corp_key)`;

/** A chain the complete chain list no longer returns: it, its groups and its corps are marked removed. $2 run id, $3 the chain ids listed. */
export const REMOVE_UNLISTED_CHAINS = `
with gone as (
  update wecom.chains set removed_at = now(), updated_at = now()
  where upstream_corpid = $1 and removed_at is null and chain_id <> all($3::text[])
  returning chain_id
), groups as (
  update wecom.chain_groups g set removed_at = now(), updated_at = now(), changed_run_id = $2
  from gone where g.upstream_corpid = $1 and g.chain_id = gone.chain_id and g.removed_at is null
  returning 1
), corps as (
  update wecom.chain_corps c set removed_at = now(), updated_at = now(), changed_run_id = $2
  from gone where c.upstream_corpid = $1 and c.chain_id = gone.chain_id and c.removed_at is null
  returning 1
)
select (select count(*) from gone)::int as chains, (select count(*) from groups)::int as groups,
       (select count(*) from corps)::int as corps`;
