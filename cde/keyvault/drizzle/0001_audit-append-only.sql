-- The audit log is append-only for every role that connects, including the table owner the service
-- runs as in development. A role with only INSERT/SELECT would not bind the owner or a superuser, and
-- the dev supervisor connects as the owner, so the guarantee is a trigger that raises instead: it holds
-- for whichever role the application uses. Defeating it needs ALTER TABLE (owner) or superuser rights,
-- which is exactly the tampering `pnpm cardplane keys audit-verify` is there to detect.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
