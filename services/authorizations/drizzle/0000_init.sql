CREATE TABLE "advices" (
	"advice_id" text PRIMARY KEY NOT NULL,
	"authorization_id" text NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "authorizations" (
	"authorization_id" text PRIMARY KEY NOT NULL,
	"card_id" text NOT NULL,
	"message_class" text NOT NULL,
	"source" text NOT NULL,
	"outcome" text NOT NULL,
	"reason" text,
	"currency" char(3) NOT NULL,
	"requested_minor" bigint NOT NULL,
	"approved_minor" bigint DEFAULT 0 NOT NULL,
	"reversed_minor" bigint DEFAULT 0 NOT NULL,
	"hold_id" text,
	"original_authorization_id" text,
	"network_key" text NOT NULL,
	"issuer_outcome" text,
	"decision" jsonb NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cards" (
	"card_id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"program_id" text NOT NULL,
	"status" text NOT NULL,
	"currency" char(3) NOT NULL,
	"controls" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"program_id" text PRIMARY KEY NOT NULL,
	"controls" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reversals" (
	"reversal_id" text PRIMARY KEY NOT NULL,
	"original_authorization_id" text NOT NULL,
	"kind" text NOT NULL,
	"result" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "authorizations_card_time_idx" ON "authorizations" USING btree ("card_id","decided_at");--> statement-breakpoint
CREATE INDEX "authorizations_network_idx" ON "authorizations" USING btree ("network_key");--> statement-breakpoint
CREATE INDEX "reversals_original_idx" ON "reversals" USING btree ("original_authorization_id");