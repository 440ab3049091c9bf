-- Run ids stay in these columns, but no longer as foreign keys: checking them cost a sixth of a first load's
-- merge (a lookup and a row lock per written row), and they stopped old sync_runs rows from being pruned.
ALTER TABLE "wecom"."chain_corp_history" DROP CONSTRAINT "chain_corp_history_opened_run_id_sync_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "wecom"."chain_corp_history" DROP CONSTRAINT "chain_corp_history_closed_run_id_sync_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "wecom"."chain_corps" DROP CONSTRAINT "chain_corps_changed_run_id_sync_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "wecom"."chain_group_history" DROP CONSTRAINT "chain_group_history_opened_run_id_sync_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "wecom"."chain_group_history" DROP CONSTRAINT "chain_group_history_closed_run_id_sync_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "wecom"."chain_groups" DROP CONSTRAINT "chain_groups_changed_run_id_sync_runs_id_fk";
--> statement-breakpoint
ALTER TABLE "wecom"."chains" DROP CONSTRAINT "chains_last_run_id_sync_runs_id_fk";
