-- chain_corp_history_events_idx (migration 0003) holds the same columns with chain_id first and serves every
-- read by entity; this one only cost one more B-tree insertion per history row (a quarter of its write time).
DROP INDEX "wecom"."chain_corp_history_entity_idx";