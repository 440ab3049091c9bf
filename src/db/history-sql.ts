// The SQL that writes the history tables: a version closes when what it recorded changed, and the next one
// opens, in the transaction that changed the current row. Parameters as in merge-sql.ts.

/**
 * After REMOVE_UNLISTED_CHAINS, in the same transaction: removed chains have no open versions. $2 run id.
 * Only the chains it removed (removed_at = now(), the transaction's start): those removed before closed theirs
 * then, and reading their versions again on every run would cost more the longer the history grows.
 */
export const CLOSE_REMOVED_CHAINS_HISTORY = [
  `update wecom.chain_group_history h set valid_to = now(), closed_run_id = $2
   from wecom.chains c
   where c.upstream_corpid = $1 and c.removed_at = now()
     and h.upstream_corpid = $1 and h.chain_id = c.chain_id and h.valid_to is null`,
  `update wecom.chain_corp_history h set valid_to = now(), closed_run_id = $2
   from wecom.chains c
   where c.upstream_corpid = $1 and c.removed_at = now()
     and h.upstream_corpid = $1 and h.chain_id = c.chain_id and h.valid_to is null`,
];

// History, written after the chain's merge in the same transaction. The rows a run changed carry its id in
// changed_run_id, so they are exactly the ones whose open version closes and (unless removed) reopens.
// now() is the transaction's start: a version closed and its successor opened share one instant.

/** $1 upstream_corpid, $2 chain_id, $3 run id. Closes the open versions of what the run changed. */
const CLOSE_GROUP_VERSIONS = `
update wecom.chain_group_history h set valid_to = now(), closed_run_id = $3
from wecom.chain_groups c
where c.upstream_corpid = $1 and c.chain_id = $2 and c.changed_run_id = $3
  and h.upstream_corpid = $1 and h.chain_id = $2 and h.groupid = c.groupid and h.valid_to is null`;

/** Opens a version for each group the run changed that is still there. */
const OPEN_GROUP_VERSIONS = `
insert into wecom.chain_group_history (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order, valid_from, opened_run_id)
select $1, $2, groupid, group_name, parentid, sort_order, now(), $3 from wecom.chain_groups
where upstream_corpid = $1 and chain_id = $2 and changed_run_id = $3 and removed_at is null`;

// By key, not by a join: with nested loops off (MERGE_SETTINGS) a join would read the index entries of every
// version of the chain to find the open ones of a few changed corps (33 against 8.5 ms for 10 of 20,000 corps
// with 11 versions each; the same for all 20,000).
const CLOSE_CORP_VERSIONS = `
update wecom.chain_corp_history h set valid_to = now(), closed_run_id = $3
where h.upstream_corpid = $1 and h.chain_id = $2 and h.valid_to is null
  and h.corp_key = any (array(
    select corp_key from wecom.chain_corps where upstream_corpid = $1 and chain_id = $2 and changed_run_id = $3))`;

/**
 * A corp keeps its entity_key across versions; a joined corp seen for the first time continues the entity
 * of a pending corp that disappeared (in this run or before: WeCom may stop listing the pending record a run
 * before the joined one appears) when their custom_id is non-empty and names no other corp in the chain: one
 * corp that joined, not one that vanished and a stranger that appeared.
 */
const OPEN_CORP_VERSIONS = `
with changed as (
  select * from wecom.chain_corps where upstream_corpid = $1 and chain_id = $2 and changed_run_id = $3
), known as (
  -- The entity each changed corp already belongs to, from its latest version.
  select distinct on (h.corp_key) h.corp_key, h.entity_key
  from wecom.chain_corp_history h join changed c on c.corp_key = h.corp_key
  where h.upstream_corpid = $1 and h.chain_id = $2
  order by h.corp_key, h.valid_from desc, h.id desc
), newly_joined as (
  select c.* from changed c left join known k on k.corp_key = c.corp_key
  where k.corp_key is null and c.is_joined and c.removed_at is null and c.custom_id <> ''
), latest as (
  -- The last version of every entity that ever had the custom_id of a corp that joined in this run: an
  -- entity whose custom_id changed since is no candidate, whatever its earlier versions said.
  select distinct on (h.entity_key) h.entity_key, h.corp_key, h.custom_id, h.is_joined, h.closed_run_id
  from wecom.chain_corp_history h
  where h.upstream_corpid = $1 and h.chain_id = $2 and h.entity_key in (
    select entity_key from wecom.chain_corp_history
    where upstream_corpid = $1 and chain_id = $2 and custom_id in (select custom_id from newly_joined))
  order by h.entity_key, h.valid_from desc, h.id desc
), gone_pending as materialized (
  -- Pending corps that are gone now (their custom_id may have changed in this very run, in a version this
  -- statement has yet to write: only the current row knows) and were not continued since. One per custom_id,
  -- or the link would be a guess; one that disappeared in this run goes before any that disappeared earlier.
  select custom_id, min(entity_key) as entity_key from (
    select l.custom_id, l.entity_key,
      rank() over (partition by l.custom_id order by coalesce(l.closed_run_id = $3, false) desc) as tier
    from latest l join wecom.chain_corps y
      on y.upstream_corpid = $1 and y.chain_id = $2 and y.corp_key = l.corp_key and y.removed_at is not null
    where not l.is_joined and l.custom_id in (select custom_id from newly_joined)
  ) candidates
  where tier = 1
  group by custom_id having count(*) = 1
), link as materialized (
  -- … and the custom_id names no other current corp of the chain.
  select j.corp_key, p.entity_key
  from newly_joined j join gone_pending p on p.custom_id = j.custom_id
  join (
    select y.custom_id from wecom.chain_corps y
    where y.upstream_corpid = $1 and y.chain_id = $2 and y.removed_at is null
      and y.custom_id in (select custom_id from gone_pending)
    group by y.custom_id having count(*) = 1
  ) alone on alone.custom_id = p.custom_id
)
insert into wecom.chain_corp_history (upstream_corpid, chain_id, entity_key, corp_key, corpid, pending_corpid, corp_name,
  custom_id, groupid, invite_userid, is_joined, qualification_status, valid_from, opened_run_id)
select $1, $2, coalesce(k.entity_key, l.entity_key, c.corp_key),
  c.corp_key, c.corpid, c.pending_corpid, c.corp_name, c.custom_id, c.groupid, c.invite_userid, c.is_joined,
  c.qualification_status, now(), $3
from changed c
left join known k on k.corp_key = c.corp_key
left join link l on l.corp_key = c.corp_key
where c.removed_at is null
order by c.corp_key`;

/** In order: what a chain's merge runs after writing its current state, for groups and for corps. */
export const GROUP_HISTORY = [CLOSE_GROUP_VERSIONS, OPEN_GROUP_VERSIONS];
export const CORP_HISTORY = [CLOSE_CORP_VERSIONS, OPEN_CORP_VERSIONS];
