ALTER TABLE "cards" ADD COLUMN "pin_key_version" integer;--> statement-breakpoint
CREATE INDEX "cards_pin_key_version_idx" ON "cards" USING btree ("pin_key_version") WHERE pin_set;