-- chain_summary's corps_qualification_unknown counted only a null status, while corps_current calls any
-- status outside 1..3 unknown (the client stores what WeCom sends, 0..32767): with such a corp the four
-- qualification columns did not add up to corps_joined, as docs/schema.md says they do. Same columns,
-- same order; only that count changes.
CREATE OR REPLACE VIEW "wecom"."chain_summary" AS
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
    count(*) FILTER (WHERE is_joined AND (qualification_status IS NULL OR qualification_status NOT IN (1, 2, 3)))::int
      AS corps_qualification_unknown
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
