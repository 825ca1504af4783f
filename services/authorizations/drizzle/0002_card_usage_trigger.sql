-- Keep card_usage equal to the sum of approved_minor - reversed_minor of a card's approved and partial
-- authorisations per UTC day and month of decided_at, whatever writes the row (decision, advice, reversal).
CREATE FUNCTION card_usage_apply(p_card text, p_at timestamptz, p_delta bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF p_delta = 0 THEN
    RETURN;
  END IF;
  INSERT INTO card_usage AS u (card_id, period, period_start, amount_minor)
  VALUES (p_card, 'day', (p_at AT TIME ZONE 'UTC')::date, p_delta),
         (p_card, 'month', date_trunc('month', p_at AT TIME ZONE 'UTC')::date, p_delta)
  ON CONFLICT (card_id, period, period_start) DO UPDATE SET amount_minor = u.amount_minor + EXCLUDED.amount_minor;
END
$$;
--> statement-breakpoint
CREATE FUNCTION card_usage_track() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  old_net bigint := 0;
  new_net bigint := 0;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.outcome IN ('approve', 'partial') THEN
    old_net := OLD.approved_minor - OLD.reversed_minor;
  END IF;
  IF NEW.outcome IN ('approve', 'partial') THEN
    new_net := NEW.approved_minor - NEW.reversed_minor;
  END IF;
  IF TG_OP = 'UPDATE' AND (OLD.card_id <> NEW.card_id OR OLD.decided_at <> NEW.decided_at) THEN
    PERFORM card_usage_apply(OLD.card_id, OLD.decided_at, -old_net);
    PERFORM card_usage_apply(NEW.card_id, NEW.decided_at, new_net);
  ELSE
    PERFORM card_usage_apply(NEW.card_id, NEW.decided_at, new_net - old_net);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER authorizations_card_usage
AFTER INSERT OR UPDATE OF outcome, approved_minor, reversed_minor, card_id, decided_at ON authorizations
FOR EACH ROW EXECUTE FUNCTION card_usage_track();
--> statement-breakpoint
-- Existing rows (databases migrated from 0000/0001).
INSERT INTO card_usage (card_id, period, period_start, amount_minor)
SELECT card_id, 'day', (decided_at AT TIME ZONE 'UTC')::date, sum(approved_minor - reversed_minor)
FROM authorizations WHERE outcome IN ('approve', 'partial')
GROUP BY 1, 3
UNION ALL
SELECT card_id, 'month', date_trunc('month', decided_at AT TIME ZONE 'UTC')::date, sum(approved_minor - reversed_minor)
FROM authorizations WHERE outcome IN ('approve', 'partial')
GROUP BY 1, 3;
