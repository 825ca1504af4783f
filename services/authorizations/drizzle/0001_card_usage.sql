CREATE TABLE "card_usage" (
	"card_id" text NOT NULL,
	"period" text NOT NULL,
	"period_start" date NOT NULL,
	"amount_minor" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "card_usage_card_id_period_period_start_pk" PRIMARY KEY("card_id","period","period_start")
);
