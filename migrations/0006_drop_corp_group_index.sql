-- chain_corps_current_idx (migration 0003) serves the reads by group, which are of current corps; this one only
-- cost one more B-tree insertion per written corp.
DROP INDEX "wecom"."chain_corps_group_idx";