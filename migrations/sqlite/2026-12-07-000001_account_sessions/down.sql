DROP INDEX audit_events_by_user;
ALTER TABLE audit_events DROP COLUMN client_ref;
ALTER TABLE audit_events DROP COLUMN user_ref;
DROP TABLE account_sessions;
