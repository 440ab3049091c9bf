-- group_tree walked upwards from every group, keeping a row per step with the path so far, and then kept
-- the longest: N(N+1)/2 rows for a line of N groups, and time cubic in the depth (16 s at depth 1,000, which
-- corps_current, joining it, paid on every query). It now walks down from the groups whose parent is not
-- a current group, one row per group. Only groups that walk never reaches, in or under a parentid cycle,
-- still walk upwards. Same columns, same values: a group has one parent, so its upward walk ends at the
-- root the downward one started from, or in a cycle.
CREATE OR REPLACE VIEW "wecom"."group_tree" AS
WITH RECURSIVE cur AS NOT MATERIALIZED (
  SELECT upstream_corpid, chain_id, groupid, group_name, parentid, sort_order
  FROM "wecom"."chain_groups"
  WHERE removed_at IS NULL
), down AS (
  SELECT g.upstream_corpid, g.chain_id, g.groupid, g.parentid AS top_parentid,
    ARRAY[g.groupid] AS path_ids, ARRAY[g.group_name] AS path_names
  FROM cur g
  WHERE NOT EXISTS (
    SELECT 1 FROM cur p
    WHERE p.upstream_corpid = g.upstream_corpid AND p.chain_id = g.chain_id AND p.groupid = g.parentid
  )
  UNION ALL
  SELECT c.upstream_corpid, c.chain_id, c.groupid, d.top_parentid,
    array_append(d.path_ids, c.groupid), array_append(d.path_names, c.group_name)
  FROM down d
  JOIN cur c ON c.upstream_corpid = d.upstream_corpid AND c.chain_id = d.chain_id AND c.parentid = d.groupid
  WHERE c.groupid <> ALL (d.path_ids)
), walk AS (
  SELECT g.upstream_corpid, g.chain_id, g.groupid, g.parentid AS top_parentid,
    ARRAY[g.groupid] AS path_ids, ARRAY[g.group_name] AS path_names
  FROM cur g
  WHERE NOT EXISTS (
    SELECT 1 FROM down d
    WHERE d.upstream_corpid = g.upstream_corpid AND d.chain_id = g.chain_id AND d.groupid = g.groupid
  )
  UNION ALL
  SELECT w.upstream_corpid, w.chain_id, w.groupid, p.parentid,
    array_prepend(p.groupid, w.path_ids), array_prepend(p.group_name, w.path_names)
  FROM walk w
  JOIN cur p ON p.upstream_corpid = w.upstream_corpid AND p.chain_id = w.chain_id AND p.groupid = w.top_parentid
  WHERE p.groupid <> ALL (w.path_ids)
), longest AS (
  SELECT upstream_corpid, chain_id, groupid, top_parentid, path_ids, path_names FROM down
  UNION ALL
  (SELECT DISTINCT ON (upstream_corpid, chain_id, groupid)
    upstream_corpid, chain_id, groupid, top_parentid, path_ids, path_names
  FROM walk
  ORDER BY upstream_corpid, chain_id, groupid, cardinality(path_ids) DESC)
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
