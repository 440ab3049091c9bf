CREATE TABLE "wecom"."chain_corp_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"upstream_corpid" text NOT NULL,
	"chain_id" text NOT NULL,
	"entity_key" text NOT NULL,
	"corp_key" text NOT NULL,
	"corpid" text,
	"pending_corpid" text,
	"corp_name" text NOT NULL,
	"custom_id" text NOT NULL,
	"groupid" bigint NOT NULL,
	"invite_userid" text,
	"is_joined" boolean NOT NULL,
	"qualification_status" smallint,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"opened_run_id" bigint NOT NULL,
	"closed_run_id" bigint
);
--> statement-breakpoint
CREATE TABLE "wecom"."chain_group_history" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"upstream_corpid" text NOT NULL,
	"chain_id" text NOT NULL,
	"groupid" bigint NOT NULL,
	"group_name" text NOT NULL,
	"parentid" bigint NOT NULL,
	"sort_order" bigint NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"opened_run_id" bigint NOT NULL,
	"closed_run_id" bigint
);
--> statement-breakpoint
ALTER TABLE "wecom"."chain_corp_history" ADD CONSTRAINT "chain_corp_history_opened_run_id_sync_runs_id_fk" FOREIGN KEY ("opened_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wecom"."chain_corp_history" ADD CONSTRAINT "chain_corp_history_closed_run_id_sync_runs_id_fk" FOREIGN KEY ("closed_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wecom"."chain_group_history" ADD CONSTRAINT "chain_group_history_opened_run_id_sync_runs_id_fk" FOREIGN KEY ("opened_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wecom"."chain_group_history" ADD CONSTRAINT "chain_group_history_closed_run_id_sync_runs_id_fk" FOREIGN KEY ("closed_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "chain_corp_history_open_idx" ON "wecom"."chain_corp_history" USING btree ("upstream_corpid","chain_id","corp_key") WHERE "wecom"."chain_corp_history"."valid_to" is null;--> statement-breakpoint
CREATE INDEX "chain_corp_history_corp_idx" ON "wecom"."chain_corp_history" USING btree ("upstream_corpid","chain_id","corp_key","valid_from");--> statement-breakpoint
CREATE INDEX "chain_corp_history_entity_idx" ON "wecom"."chain_corp_history" USING btree ("upstream_corpid","chain_id","entity_key","valid_from");--> statement-breakpoint
CREATE INDEX "chain_corp_history_valid_idx" ON "wecom"."chain_corp_history" USING btree ("valid_from","valid_to");--> statement-breakpoint
CREATE UNIQUE INDEX "chain_group_history_open_idx" ON "wecom"."chain_group_history" USING btree ("upstream_corpid","chain_id","groupid") WHERE "wecom"."chain_group_history"."valid_to" is null;--> statement-breakpoint
CREATE INDEX "chain_group_history_group_idx" ON "wecom"."chain_group_history" USING btree ("upstream_corpid","chain_id","groupid","valid_from");--> statement-breakpoint
-- Databases synced before history existed: their current rows become the first open versions.
INSERT INTO "wecom"."chain_group_history" ("upstream_corpid", "chain_id", "groupid", "group_name", "parentid", "sort_order", "valid_from", "opened_run_id")
SELECT "upstream_corpid", "chain_id", "groupid", "group_name", "parentid", "sort_order", "updated_at", "changed_run_id"
FROM "wecom"."chain_groups" WHERE "removed_at" IS NULL AND "changed_run_id" IS NOT NULL;--> statement-breakpoint
INSERT INTO "wecom"."chain_corp_history" ("upstream_corpid", "chain_id", "entity_key", "corp_key", "corpid", "pending_corpid", "corp_name", "custom_id", "groupid", "invite_userid", "is_joined", "qualification_status", "valid_from", "opened_run_id")
SELECT "upstream_corpid", "chain_id", "corp_key", "corp_key", "corpid", "pending_corpid", "corp_name", "custom_id", "groupid", "invite_userid", "is_joined", "qualification_status", "updated_at", "changed_run_id"
FROM "wecom"."chain_corps" WHERE "removed_at" IS NULL AND "changed_run_id" IS NOT NULL;
