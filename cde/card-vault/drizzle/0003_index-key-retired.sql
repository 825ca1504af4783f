ALTER TABLE "data_keys" ADD COLUMN "retired_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "cards_index_key_idx" ON "cards" USING btree ("index_key_id");