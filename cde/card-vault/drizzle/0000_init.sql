CREATE TABLE "cards" (
	"card_id" text PRIMARY KEY NOT NULL,
	"program_id" text NOT NULL,
	"pan_hmac" "bytea" NOT NULL,
	"index_key_id" integer NOT NULL,
	"last_four" text NOT NULL,
	"bin" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"pin_set" boolean DEFAULT false NOT NULL,
	"pin_tries" integer DEFAULT 0 NOT NULL,
	"pin_locked_at" timestamp with time zone,
	"dek_id" integer NOT NULL,
	"record" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cards_pan_hmac_unique" UNIQUE("pan_hmac")
);
--> statement-breakpoint
CREATE TABLE "data_keys" (
	"id" serial PRIMARY KEY NOT NULL,
	"purpose" text NOT NULL,
	"kek_name" text NOT NULL,
	"kek_version" integer NOT NULL,
	"wrapped" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "programs" (
	"id" text PRIMARY KEY NOT NULL,
	"bin" text NOT NULL,
	"pan_length" integer NOT NULL,
	"account_start" text NOT NULL,
	"range_size" bigint NOT NULL,
	"next_seq" bigint DEFAULT 0 NOT NULL,
	"validity_months" integer NOT NULL,
	"service_code" text NOT NULL,
	"pin_try_limit" integer NOT NULL,
	"cvk_name" text NOT NULL,
	"pvk_name" text NOT NULL,
	"pvki" integer DEFAULT 1 NOT NULL,
	"imk_ac_name" text,
	"arqc_profile" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reveal_sessions" (
	"token_hash" "bytea" PRIMARY KEY NOT NULL,
	"card_id" text NOT NULL,
	"kind" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"redeemed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cards" ADD CONSTRAINT "cards_program_id_programs_id_fk" FOREIGN KEY ("program_id") REFERENCES "public"."programs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cards" ADD CONSTRAINT "cards_index_key_id_data_keys_id_fk" FOREIGN KEY ("index_key_id") REFERENCES "public"."data_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cards" ADD CONSTRAINT "cards_dek_id_data_keys_id_fk" FOREIGN KEY ("dek_id") REFERENCES "public"."data_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reveal_sessions" ADD CONSTRAINT "reveal_sessions_card_id_cards_card_id_fk" FOREIGN KEY ("card_id") REFERENCES "public"."cards"("card_id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cards_dek_idx" ON "cards" USING btree ("dek_id");--> statement-breakpoint
CREATE UNIQUE INDEX "data_keys_one_active" ON "data_keys" USING btree ("purpose") WHERE active;