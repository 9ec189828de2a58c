-- SPEC §3.9: the account page's sign-ins, kept server-side so that signing out (or
-- "sign out everywhere") ends a session on every instance. The cookie's value is never
-- stored: only its SHA-256 (32 raw bytes), found by (domain_id, session_hash).
CREATE TABLE account_sessions (
    domain_id    INTEGER NOT NULL,
    id           INTEGER PRIMARY KEY,
    session_hash BLOB    NOT NULL CHECK (length(session_hash) = 32),
    user_ref     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    UNIQUE (domain_id, id),
    UNIQUE (domain_id, session_hash),
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX account_sessions_by_user ON account_sessions (domain_id, user_ref);

-- "Recent activity" lists a user's revocations: each revocation's audit event names
-- the user (and the application) it reached, when it reached one.
ALTER TABLE audit_events ADD COLUMN user_ref INTEGER;
ALTER TABLE audit_events ADD COLUMN client_ref INTEGER;
CREATE INDEX audit_events_by_user ON audit_events (domain_id, user_ref, id)
    WHERE user_ref IS NOT NULL;
