CREATE SCHEMA IF NOT EXISTS "wecom";
--> statement-breakpoint
CREATE TYPE "wecom"."sync_run_status" AS ENUM('running', 'succeeded', 'partial', 'failed', 'aborted');--> statement-breakpoint
CREATE TABLE "wecom"."chain_corps" (
	"upstream_corpid" text NOT NULL,
	"chain_id" text NOT NULL,
	"corp_key" text NOT NULL,
	"corpid" text,
	"pending_corpid" text,
	"corp_name" text NOT NULL,
	"custom_id" text DEFAULT '' NOT NULL,
	"groupid" bigint NOT NULL,
	"invite_userid" text,
	"is_joined" boolean NOT NULL,
	"qualification_status" smallint,
	"details_fetched_at" timestamp with time zone,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	"changed_run_id" bigint,
	CONSTRAINT "chain_corps_upstream_corpid_chain_id_corp_key_pk" PRIMARY KEY("upstream_corpid","chain_id","corp_key"),
	CONSTRAINT "chain_corps_identity" CHECK (("wecom"."chain_corps"."is_joined" and "wecom"."chain_corps"."corpid" is not null and "wecom"."chain_corps"."pending_corpid" is null and "wecom"."chain_corps"."corp_key" = "wecom"."chain_corps"."corpid")
        or (not "wecom"."chain_corps"."is_joined" and "wecom"."chain_corps"."corpid" is null and "wecom"."chain_corps"."pending_corpid" is not null and "wecom"."chain_corps"."corp_key" = 'pending:' || "wecom"."chain_corps"."pending_corpid"))
);
--> statement-breakpoint
CREATE TABLE "wecom"."chain_groups" (
	"upstream_corpid" text NOT NULL,
	"chain_id" text NOT NULL,
	"groupid" bigint NOT NULL,
	"group_name" text NOT NULL,
	"parentid" bigint NOT NULL,
	"sort_order" bigint NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	"changed_run_id" bigint,
	CONSTRAINT "chain_groups_upstream_corpid_chain_id_groupid_pk" PRIMARY KEY("upstream_corpid","chain_id","groupid")
);
--> statement-breakpoint
CREATE TABLE "wecom"."chains" (
	"upstream_corpid" text NOT NULL,
	"chain_id" text NOT NULL,
	"chain_name" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	"last_synced_at" timestamp with time zone,
	"last_run_id" bigint,
	CONSTRAINT "chains_upstream_corpid_chain_id_pk" PRIMARY KEY("upstream_corpid","chain_id")
);
--> statement-breakpoint
CREATE TABLE "wecom"."sync_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"upstream_corpid" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" "wecom"."sync_run_status" DEFAULT 'running' NOT NULL,
	"stats" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "wecom"."chain_corps" ADD CONSTRAINT "chain_corps_changed_run_id_sync_runs_id_fk" FOREIGN KEY ("changed_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wecom"."chain_groups" ADD CONSTRAINT "chain_groups_changed_run_id_sync_runs_id_fk" FOREIGN KEY ("changed_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wecom"."chains" ADD CONSTRAINT "chains_last_run_id_sync_runs_id_fk" FOREIGN KEY ("last_run_id") REFERENCES "wecom"."sync_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chain_corps_group_idx" ON "wecom"."chain_corps" USING btree ("upstream_corpid","chain_id","groupid");--> statement-breakpoint
CREATE INDEX "chain_corps_corpid_idx" ON "wecom"."chain_corps" USING btree ("corpid");--> statement-breakpoint
CREATE INDEX "chain_groups_parent_idx" ON "wecom"."chain_groups" USING btree ("upstream_corpid","chain_id","parentid");--> statement-breakpoint
CREATE INDEX "sync_runs_upstream_started_idx" ON "wecom"."sync_runs" USING btree ("upstream_corpid","started_at" DESC NULLS LAST);