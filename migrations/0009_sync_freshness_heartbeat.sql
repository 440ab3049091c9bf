-- A run whose process died (killed with -9, out of memory) stays `running` until the next run of its corp
-- marks it aborted, and sync_freshness gave no way to tell it from a live one. Same columns, same order, and
-- the last run's heartbeat at the end: a live run moves it every 10 s.
CREATE OR REPLACE VIEW "wecom"."sync_freshness" AS
SELECT
  u.upstream_corpid,
  s.last_success_at,
  now() - s.last_success_at AS age,
  l.id AS last_run_id,
  l.status::text AS last_run_status,
  l.started_at AS last_run_started_at,
  l.finished_at AS last_run_finished_at,
  l.heartbeat_at AS last_run_heartbeat_at
FROM (SELECT DISTINCT upstream_corpid FROM "wecom"."sync_runs") u
CROSS JOIN LATERAL (
  SELECT r.id, r.status, r.started_at, r.finished_at, r.heartbeat_at
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
