// A small, hand-written data set for the views, the report and the documented queries. All timestamps are
// relative to the transaction's now(), so "recent" stays recent whenever the test runs.

export const UPSTREAM = 'wwupstream';
export const OTHER_UPSTREAM = 'wwother';

export const FIXTURE_SQL = `
begin;
insert into wecom.sync_runs (id, upstream_corpid, started_at, finished_at, heartbeat_at, status) values
  (1, '${UPSTREAM}', now() - interval '60 days', now() - interval '60 days' + interval '1 minute', now(), 'succeeded'),
  (2, '${UPSTREAM}', now() - interval '40 days', now() - interval '40 days' + interval '1 minute', now(), 'succeeded'),
  (3, '${UPSTREAM}', now() - interval '10 days', now() - interval '10 days' + interval '1 minute', now(), 'succeeded'),
  (4, '${UPSTREAM}', now() - interval '2 days', now() - interval '2 days' + interval '1 minute', now(), 'succeeded'),
  (5, '${UPSTREAM}', now() - interval '1 hour', now() - interval '1 hour' + interval '1 minute', now(), 'failed'),
  -- Its process died 10 minutes in (killed with -9, say): no run of its corp has come since to mark it aborted.
  (6, '${OTHER_UPSTREAM}', now() - interval '3 hours', null, now() - interval '170 minutes', 'running');
select setval(pg_get_serial_sequence('wecom.sync_runs', 'id'), 6);

insert into wecom.chains (upstream_corpid, chain_id, chain_name, first_seen_at, updated_at, removed_at, last_synced_at, last_run_id) values
  ('${UPSTREAM}', 'chA', '华东供应链', now() - interval '60 days', now() - interval '60 days', null, now() - interval '2 days', 4),
  ('${UPSTREAM}', 'chB', 'Supply B', now() - interval '10 days', now() - interval '10 days', null, now() - interval '2 days', 4),
  ('${UPSTREAM}', 'chC', '已删除的链', now() - interval '60 days', now() - interval '5 days', now() - interval '5 days', now() - interval '10 days', 3);

insert into wecom.chain_groups (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order, removed_at, changed_run_id) values
  ('${UPSTREAM}', 'chA', 10, '一级经销商', 1, 5, null, 1),
  ('${UPSTREAM}', 'chA', 11, '华东', 10, 4, null, 1),
  ('${UPSTREAM}', 'chA', 12, '上海', 11, 3, null, 1),
  ('${UPSTREAM}', 'chA', 20, '不可见上级', 99, 2, null, 1),
  ('${UPSTREAM}', 'chA', 21, 'Child of 20', 20, 1, null, 1),
  ('${UPSTREAM}', 'chA', 30, '已删除', 1, 0, now() - interval '10 days', 3),
  ('${UPSTREAM}', 'chA', 31, '孤儿', 30, 0, null, 1),
  ('${UPSTREAM}', 'chA', 40, 'Loop A', 41, 0, null, 1),
  ('${UPSTREAM}', 'chA', 41, 'Loop B', 40, 0, null, 1),
  ('${UPSTREAM}', 'chB', 10, 'North', 1, 0, null, 4);

insert into wecom.chain_corps (upstream_corpid, chain_id, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid,
    invite_userid, is_joined, qualification_status, first_seen_at, updated_at, removed_at, changed_run_id) values
  ('${UPSTREAM}', 'chA', 'wwa1', 'wwa1', null, '上海一号贸易有限公司', 'A1', 12, 'li', true, 2, now() - interval '60 days', now() - interval '60 days', null, 1),
  ('${UPSTREAM}', 'chA', 'wwa2', 'wwa2', null, 'Root Corp', 'A2', 1, 'li', true, 1, now() - interval '40 days', now() - interval '40 days', null, 2),
  ('${UPSTREAM}', 'chA', 'wwa3', 'wwa3', null, '杭州三号', 'A3', 11, 'li', true, 3, now() - interval '10 days', now() - interval '2 days', null, 4),
  ('${UPSTREAM}', 'chA', 'pending:pa4', null, 'pa4', '南京四号', 'A4', 20, 'li', false, null, now() - interval '60 days', now() - interval '2 days', now() - interval '2 days', 4),
  ('${UPSTREAM}', 'chA', 'wwa4', 'wwa4', null, '南京四号', 'A4', 20, 'li', true, null, now() - interval '2 days', now() - interval '2 days', null, 4),
  ('${UPSTREAM}', 'chA', 'pending:pa5', null, 'pa5', '苏州五号', 'A5', 10, 'li', false, null, now() - interval '60 days', now() - interval '60 days', null, 1),
  ('${UPSTREAM}', 'chA', 'pending:pa8', null, 'pa8', '上海待加入八号', 'A8', 11, 'wang', false, null, now() - interval '60 days', now() - interval '60 days', null, 1),
  ('${UPSTREAM}', 'chA', 'wwa6', 'wwa6', null, '已移除六号', 'A6', 10, 'li', true, 2, now() - interval '40 days', now() - interval '10 days', now() - interval '10 days', 3),
  ('${UPSTREAM}', 'chA', 'wwa7', 'wwa7', null, 'Unknown Group Corp', 'A7', 999, null, true, 2, now() - interval '60 days', now() - interval '2 days', null, 4),
  ('${UPSTREAM}', 'chB', 'wwb1', 'wwb1', null, 'B One', 'B1', 10, null, true, 2, now() - interval '10 days', now() - interval '10 days', null, 3),
  ('${UPSTREAM}', 'chB', 'pending:pb2', null, 'pb2', 'B Two', 'B2', 1, null, false, null, now() - interval '10 days', now() - interval '10 days', null, 3),
  ('${UPSTREAM}', 'chC', 'wwc1', 'wwc1', null, 'C One', 'C1', 1, null, true, 2, now() - interval '60 days', now() - interval '5 days', now() - interval '5 days', 3);

insert into wecom.chain_corp_history (upstream_corpid, chain_id, entity_key, corp_key, corpid, pending_corpid, corp_name, custom_id,
    groupid, invite_userid, is_joined, qualification_status, valid_from, valid_to, opened_run_id, closed_run_id) values
  -- found by chain A's first sync: not a join
  ('${UPSTREAM}', 'chA', 'wwa1', 'wwa1', 'wwa1', null, '上海一号贸易有限公司', 'A1', 12, 'li', true, 2, now() - interval '60 days', null, 1, null),
  -- new 40 days ago: a join, but older than 30 days
  ('${UPSTREAM}', 'chA', 'wwa2', 'wwa2', 'wwa2', null, 'Root Corp', 'A2', 1, 'li', true, 1, now() - interval '40 days', null, 2, null),
  -- new 10 days ago: a join in the last 30 days; moved from group 10 to 11 two days ago
  ('${UPSTREAM}', 'chA', 'wwa3', 'wwa3', 'wwa3', null, '杭州三号', 'A3', 10, 'li', true, 3, now() - interval '10 days', now() - interval '2 days', 3, 4),
  ('${UPSTREAM}', 'chA', 'wwa3', 'wwa3', 'wwa3', null, '杭州三号', 'A3', 11, 'li', true, 3, now() - interval '2 days', null, 4, null),
  -- pending since the first sync, joined 2 days ago (one entity)
  ('${UPSTREAM}', 'chA', 'pending:pa4', 'pending:pa4', null, 'pa4', '南京四号', 'A4', 20, 'li', false, null, now() - interval '60 days', now() - interval '2 days', 1, 4),
  ('${UPSTREAM}', 'chA', 'pending:pa4', 'wwa4', 'wwa4', null, '南京四号', 'A4', 20, 'li', true, null, now() - interval '2 days', null, 4, null),
  ('${UPSTREAM}', 'chA', 'pending:pa5', 'pending:pa5', null, 'pa5', '苏州五号', 'A5', 10, 'li', false, null, now() - interval '60 days', null, 1, null),
  ('${UPSTREAM}', 'chA', 'pending:pa8', 'pending:pa8', null, 'pa8', '上海待加入八号', 'A8', 11, 'wang', false, null, now() - interval '60 days', null, 1, null),
  -- came 40 days ago, removed 10 days ago
  ('${UPSTREAM}', 'chA', 'wwa6', 'wwa6', 'wwa6', null, '已移除六号', 'A6', 10, 'li', true, 2, now() - interval '40 days', now() - interval '10 days', 2, 3),
  -- back-filled first version (valid_from = its last change, not its first sighting): not a join
  ('${UPSTREAM}', 'chA', 'wwa7', 'wwa7', 'wwa7', null, 'Unknown Group Corp', 'A7', 999, null, true, 2, now() - interval '2 days', null, 4, null),
  ('${UPSTREAM}', 'chB', 'wwb1', 'wwb1', 'wwb1', null, 'B One', 'B1', 10, null, true, 2, now() - interval '10 days', null, 3, null),
  ('${UPSTREAM}', 'chB', 'pending:pb2', 'pending:pb2', null, 'pb2', 'B Two', 'B2', 1, null, false, null, now() - interval '10 days', null, 3, null),
  ('${UPSTREAM}', 'chC', 'wwc1', 'wwc1', 'wwc1', null, 'C One', 'C1', 1, null, true, 2, now() - interval '60 days', now() - interval '5 days', 1, 3);

insert into wecom.chain_group_history (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order, valid_from, valid_to, opened_run_id, closed_run_id)
select upstream_corpid, chain_id, groupid, group_name, parentid, sort_order, now() - interval '60 days', removed_at, 1,
       case when removed_at is not null then 3 end
from wecom.chain_groups;
commit;`;

// A large data set for query plans, upstream corp 'wwbig'. Corp i is in chain floor(i / 10) % chains; every 7th has not joined, every 23rd is removed, every 4th has a second
// version (a rename), first seen on one of the last 1,000 days.
export function generatedDataSql(corps: number, chains: number, groupsPerChain: number): string {
  return `
insert into wecom.sync_runs (id, upstream_corpid, started_at, finished_at, status)
select r, 'wwbig', now() - (1001 - r) * interval '1 day', now() - (1001 - r) * interval '1 day' + interval '5 minutes',
       'succeeded'
from generate_series(1, 1000) r;

insert into wecom.chains (upstream_corpid, chain_id, chain_name, first_seen_at, last_synced_at, last_run_id)
select 'wwbig', 'ch' || c, '链' || c, now() - interval '1000 days', now(), 1000 from generate_series(0, ${chains - 1}) c;

insert into wecom.chain_groups (upstream_corpid, chain_id, groupid, group_name, parentid, sort_order, changed_run_id)
select 'wwbig', 'ch' || c, 100 + g, '分组' || g, case when g < 5 then 1 else 100 + g / 5 end, g, 1
from generate_series(0, ${chains - 1}) c, generate_series(0, ${groupsPerChain - 1}) g;

create temp table gen as
select i, 'ch' || (i / 10 % ${chains}) as chain_id, i % 7 = 0 as pending,
       case when i % 7 = 0 then 'pending:p' || i else 'ww' || i end as corp_key,
       now() - (1 + i % 1000) * interval '1 day' as first_seen,
       case when i % 23 = 0 then now() - interval '12 hours' end as removed
from generate_series(1, ${corps}) i;

insert into wecom.chain_corps (upstream_corpid, chain_id, corp_key, corpid, pending_corpid, corp_name, custom_id, groupid,
  is_joined, qualification_status, first_seen_at, updated_at, removed_at, changed_run_id)
select 'wwbig', chain_id, corp_key, case when not pending then corp_key end, case when pending then 'p' || i end,
       '企业' || i, 'c' || i, 100 + i % ${groupsPerChain}, not pending, case when not pending then 1 + i % 3 end,
       first_seen, coalesce(removed, first_seen), removed, 1000
from gen;

insert into wecom.chain_corp_history (upstream_corpid, chain_id, entity_key, corp_key, corpid, pending_corpid, corp_name,
  custom_id, groupid, is_joined, qualification_status, valid_from, valid_to, opened_run_id, closed_run_id)
select 'wwbig', chain_id, corp_key, corp_key, case when not pending then corp_key end, case when pending then 'p' || i end,
       case when v = 1 and i % 4 = 0 then '旧名' || i else '企业' || i end, 'c' || i, 100 + i % ${groupsPerChain},
       not pending, case when not pending then 1 + i % 3 end,
       case when v = 1 then first_seen else first_seen + interval '6 hours' end,
       case when v = 1 and i % 4 = 0 then first_seen + interval '6 hours' when v = 2 or i % 4 <> 0 then removed end,
       1000, null
from gen, generate_series(1, 2) v
where v = 1 or i % 4 = 0;

analyze wecom.sync_runs, wecom.chains, wecom.chain_groups, wecom.chain_corps, wecom.chain_corp_history;`;
}
