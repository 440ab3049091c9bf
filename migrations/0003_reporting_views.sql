-- Reporting views for BI (documented in docs/schema.md; their column names are a public interface: add,
-- never rename) and the indexes they need. Hand-written (drizzle-kit generate --custom): drizzle's snapshot
-- does not know these objects, so a later generated migration leaves them alone. A migration that changes
-- a column one of these views reads must drop and recreate the view.

-- Per-chain reads of the history: chain_id first, so a filter on chain_id alone can use it, then the order
-- chain_corp_events' window partitions and sorts in, so an index scan can feed the window without a sort.
CREATE INDEX "chain_corp_history_events_idx" ON "wecom"."chain_corp_history" USING btree ("chain_id", "entity_key", "upstream_corpid", "valid_from", "id");
--> statement-breakpoint
-- corps_current filtered by chain (and group) without reading the removed rows.
CREATE INDEX "chain_corps_current_idx" ON "wecom"."chain_corps" USING btree ("chain_id", "groupid") WHERE "removed_at" IS NULL;
--> statement-breakpoint

-- One row per event in a corp's history. Versions of one entity (entity_key, stable across a pending corp
-- joining) are compared with their predecessor (lag) and successor (lead) in (valid_from, id) order; one
-- version may yield several events (e.g. joined and renamed). Events at the start of a version carry its
-- valid_from and opened_run_id; 'removed' carries valid_to and closed_run_id. A filter on chain_id (or
-- upstream_corpid, entity_key) reaches the index below the window; one on occurred_at or event_type cannot.
CREATE VIEW "wecom"."chain_corp_events" AS
SELECT
  x.upstream_corpid,
  x.chain_id,
  x.entity_key,
  x.corp_key,
  x.corpid,
  x.pending_corpid,
  x.corp_name,
  x.event_type,
  CASE WHEN x.event_type = 'removed' THEN x.valid_to ELSE x.valid_from END AS occurred_at,
  CASE WHEN x.event_type = 'removed' THEN x.closed_run_id ELSE x.opened_run_id END AS run_id,
  CASE x.event_type
    WHEN 'joined' THEN x.prev_corp_key
    WHEN 'moved' THEN x.prev_groupid::text
    WHEN 'renamed' THEN x.prev_corp_name
    WHEN 'qualification_changed' THEN x.prev_qualification_status::text
  END AS old_value,
  CASE x.event_type
    WHEN 'joined' THEN x.corp_key
    WHEN 'moved' THEN x.groupid::text
    WHEN 'renamed' THEN x.corp_name
    WHEN 'qualification_changed' THEN x.qualification_status::text
  END AS new_value,
  CASE WHEN x.event_type = 'moved' THEN x.prev_groupid END AS old_groupid,
  CASE WHEN x.event_type = 'moved' THEN x.groupid END AS new_groupid,
  x.is_joined,
  x.id AS history_id
FROM (
  -- The events of each version: an array of the types that apply (unnest in the select list is far
  -- cheaper than a lateral join over every version).
  SELECT v.*,
    unnest(array_remove(ARRAY[
      CASE WHEN v.prev_id IS NULL THEN 'added' END,
      CASE WHEN v.prev_valid_to < v.valid_from THEN 'restored' END,
      CASE WHEN NOT v.prev_is_joined AND v.is_joined THEN 'joined' END,
      CASE WHEN v.prev_groupid <> v.groupid THEN 'moved' END,
      CASE WHEN v.prev_corp_name <> v.corp_name THEN 'renamed' END,
      CASE WHEN v.prev_qualification_status <> v.qualification_status THEN 'qualification_changed' END,
      CASE WHEN v.valid_to IS NOT NULL AND v.next_valid_from IS DISTINCT FROM v.valid_to THEN 'removed' END
    ], NULL)) AS event_type
  FROM (
    SELECT h.*,
      lag(h.id) OVER w AS prev_id,
      lag(h.valid_to) OVER w AS prev_valid_to,
      lag(h.corp_key) OVER w AS prev_corp_key,
      lag(h.is_joined) OVER w AS prev_is_joined,
      lag(h.groupid) OVER w AS prev_groupid,
      lag(h.corp_name) OVER w AS prev_corp_name,
      lag(h.qualification_status) OVER w AS prev_qualification_status,
      lead(h.valid_from) OVER w AS next_valid_from
    FROM "wecom"."chain_corp_history" h
    WINDOW w AS (PARTITION BY h.chain_id, h.entity_key, h.upstream_corpid ORDER BY h.valid_from, h.id)
  ) v
) x;
--> statement-breakpoint

-- Every current group with its path from the top. Walks up from each group (so groups in a cycle, or below
-- a parent the app cannot see, are still listed) and stops before repeating a group.
CREATE VIEW "wecom"."group_tree" AS
WITH RECURSIVE cur AS (
  SELECT upstream_corpid, chain_id, groupid, group_name, parentid, sort_order
  FROM "wecom"."chain_groups"
  WHERE removed_at IS NULL
), walk AS (
  SELECT g.upstream_corpid, g.chain_id, g.groupid, g.parentid AS top_parentid,
    ARRAY[g.groupid] AS path_ids, ARRAY[g.group_name] AS path_names
  FROM cur g
  UNION ALL
  SELECT w.upstream_corpid, w.chain_id, w.groupid, p.parentid,
    array_prepend(p.groupid, w.path_ids), array_prepend(p.group_name, w.path_names)
  FROM walk w
  JOIN cur p ON p.upstream_corpid = w.upstream_corpid AND p.chain_id = w.chain_id AND p.groupid = w.top_parentid
  WHERE p.groupid <> ALL (w.path_ids)
), longest AS (
  SELECT DISTINCT ON (upstream_corpid, chain_id, groupid)
    upstream_corpid, chain_id, groupid, top_parentid, path_ids, path_names
  FROM walk
  ORDER BY upstream_corpid, chain_id, groupid, cardinality(path_ids) DESC
)
SELECT
  g.upstream_corpid,
  g.chain_id,
  g.groupid,
  g.group_name,
  g.parentid,
  g.sort_order,
  cardinality(t.path_ids) AS depth,
  t.path_ids,
  t.path_names,
  array_to_string(t.path_names, ' / ') AS path,
  (g.parentid = 1 OR EXISTS (
    SELECT 1 FROM cur p
    WHERE p.upstream_corpid = g.upstream_corpid AND p.chain_id = g.chain_id AND p.groupid = g.parentid
  )) AS parent_visible,
  t.top_parentid = 1 AS path_complete
FROM cur g
JOIN longest t ON t.upstream_corpid = g.upstream_corpid AND t.chain_id = g.chain_id AND t.groupid = g.groupid;
--> statement-breakpoint

-- Current corps of current chains, with the chain's name and the group's path. Corps directly in the root
-- group (groupid 1) have group_depth 0, empty path arrays and group_path ''; a corp whose group is not a
-- current group has nulls there.
CREATE VIEW "wecom"."corps_current" AS
SELECT
  c.upstream_corpid,
  c.chain_id,
  ch.chain_name,
  c.corp_key,
  c.corpid,
  c.pending_corpid,
  c.corp_name,
  c.custom_id,
  c.is_joined,
  c.qualification_status,
  CASE c.qualification_status
    WHEN 1 THEN 'unverified' WHEN 2 THEN 'verified' WHEN 3 THEN 'certified' ELSE 'unknown'
  END AS qualification,
  c.groupid,
  g.group_name,
  CASE WHEN c.groupid = 1 THEN 0 ELSE g.depth END AS group_depth,
  CASE WHEN c.groupid = 1 THEN '{}'::bigint[] ELSE g.path_ids END AS group_path_ids,
  CASE WHEN c.groupid = 1 THEN '{}'::text[] ELSE g.path_names END AS group_path_names,
  CASE WHEN c.groupid = 1 THEN '' ELSE g.path END AS group_path,
  c.invite_userid,
  c.details_fetched_at,
  c.first_seen_at,
  c.updated_at
FROM "wecom"."chain_corps" c
JOIN "wecom"."chains" ch
  ON ch.upstream_corpid = c.upstream_corpid AND ch.chain_id = c.chain_id AND ch.removed_at IS NULL
LEFT JOIN "wecom"."group_tree" g
  ON g.upstream_corpid = c.upstream_corpid AND g.chain_id = c.chain_id AND g.groupid = c.groupid
WHERE c.removed_at IS NULL;
--> statement-breakpoint

-- Per current chain: sizes, qualification mix of the joined corps, recent joins, last complete sync.
-- A join is a 'joined' event, or an 'added' event of a corp that was joined when first seen, except the
-- corps the chain's first sync found (occurred_at = chains.first_seen_at) and first versions back-filled by
-- migration 0002 (those do not start at the corp's chain_corps.first_seen_at). Counted straight from the
-- history through indexes (the same rule as chain_corp_events, without its window over every version).
CREATE VIEW "wecom"."chain_summary" AS
SELECT
  ch.upstream_corpid,
  ch.chain_id,
  ch.chain_name,
  coalesce(g.groups, 0) AS groups,
  coalesce(k.corps_joined, 0) AS corps_joined,
  coalesce(k.corps_pending, 0) AS corps_pending,
  coalesce(k.corps_unverified, 0) AS corps_unverified,
  coalesce(k.corps_verified, 0) AS corps_verified,
  coalesce(k.corps_certified, 0) AS corps_certified,
  coalesce(k.corps_qualification_unknown, 0) AS corps_qualification_unknown,
  coalesce(j.joined_last_7_days, 0) AS joined_last_7_days,
  coalesce(j.joined_last_30_days, 0) AS joined_last_30_days,
  ch.last_synced_at,
  ch.last_run_id
FROM "wecom"."chains" ch
LEFT JOIN (
  SELECT upstream_corpid, chain_id, count(*)::int AS groups
  FROM "wecom"."chain_groups"
  WHERE removed_at IS NULL
  GROUP BY upstream_corpid, chain_id
) g ON g.upstream_corpid = ch.upstream_corpid AND g.chain_id = ch.chain_id
LEFT JOIN (
  SELECT upstream_corpid, chain_id,
    count(*) FILTER (WHERE is_joined)::int AS corps_joined,
    count(*) FILTER (WHERE NOT is_joined)::int AS corps_pending,
    count(*) FILTER (WHERE is_joined AND qualification_status = 1)::int AS corps_unverified,
    count(*) FILTER (WHERE is_joined AND qualification_status = 2)::int AS corps_verified,
    count(*) FILTER (WHERE is_joined AND qualification_status = 3)::int AS corps_certified,
    count(*) FILTER (WHERE is_joined AND qualification_status IS NULL)::int AS corps_qualification_unknown
  FROM "wecom"."chain_corps"
  WHERE removed_at IS NULL
  GROUP BY upstream_corpid, chain_id
) k ON k.upstream_corpid = ch.upstream_corpid AND k.chain_id = ch.chain_id
LEFT JOIN (
  SELECT h.upstream_corpid, h.chain_id,
    count(*) FILTER (WHERE h.valid_from >= now() - interval '7 days')::int AS joined_last_7_days,
    count(*)::int AS joined_last_30_days
  FROM "wecom"."chain_corp_history" h
  JOIN "wecom"."chains" hc ON hc.upstream_corpid = h.upstream_corpid AND hc.chain_id = h.chain_id
  LEFT JOIN "wecom"."chain_corps" cc
    ON cc.upstream_corpid = h.upstream_corpid AND cc.chain_id = h.chain_id AND cc.corp_key = h.corp_key
  LEFT JOIN LATERAL (
    SELECT p.is_joined
    FROM "wecom"."chain_corp_history" p
    WHERE p.upstream_corpid = h.upstream_corpid AND p.chain_id = h.chain_id AND p.entity_key = h.entity_key
      AND p.valid_from <= h.valid_from AND (p.valid_from < h.valid_from OR p.id < h.id)
    ORDER BY p.valid_from DESC, p.id DESC
    LIMIT 1
  ) prev ON true
  WHERE h.valid_from >= now() - interval '30 days'
    AND h.is_joined
    AND (
      prev.is_joined = false
      OR (prev.is_joined IS NULL AND h.valid_from > hc.first_seen_at AND cc.first_seen_at = h.valid_from)
    )
  GROUP BY h.upstream_corpid, h.chain_id
) j ON j.upstream_corpid = ch.upstream_corpid AND j.chain_id = ch.chain_id
WHERE ch.removed_at IS NULL;
--> statement-breakpoint

-- Per upstream corp: when it last synced successfully, and how its latest run went.
CREATE VIEW "wecom"."sync_freshness" AS
SELECT
  u.upstream_corpid,
  s.last_success_at,
  now() - s.last_success_at AS age,
  l.id AS last_run_id,
  l.status::text AS last_run_status,
  l.started_at AS last_run_started_at,
  l.finished_at AS last_run_finished_at
FROM (SELECT DISTINCT upstream_corpid FROM "wecom"."sync_runs") u
CROSS JOIN LATERAL (
  SELECT r.id, r.status, r.started_at, r.finished_at
  FROM "wecom"."sync_runs" r
  WHERE r.upstream_corpid = u.upstream_corpid
  ORDER BY r.started_at DESC, r.id DESC
  LIMIT 1
) l
CROSS JOIN LATERAL (
  SELECT max(r.finished_at) AS last_success_at
  FROM "wecom"."sync_runs" r
  WHERE r.upstream_corpid = u.upstream_corpid AND r.status = 'succeeded'
) s;
