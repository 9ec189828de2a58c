-- SPEC §3.9: the account page's sign-ins, kept server-side so that signing out (or
-- "sign out everywhere") ends a session on every instance. The cookie's value is never
-- stored: only its SHA-256 (32 raw bytes), found by (domain_id, session_hash).
CREATE TABLE account_sessions (
    domain_id    BIGINT NOT NULL,
    id           BIGINT GENERATED ALWAYS AS IDENTITY,
    session_hash BYTEA  NOT NULL CHECK (length(session_hash) = 32),
    user_ref     BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    PRIMARY KEY (domain_id, id),
    UNIQUE (domain_id, session_hash),
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE
);
CREATE INDEX account_sessions_by_user ON account_sessions (domain_id, user_ref);

-- "Recent activity" lists a user's revocations: each revocation's audit event names
-- the user (and the application) it reached, when it reached one.
ALTER TABLE audit_events ADD COLUMN user_ref BIGINT;
ALTER TABLE audit_events ADD COLUMN client_ref BIGINT;
CREATE INDEX audit_events_by_user ON audit_events (domain_id, user_ref, id)
    WHERE user_ref IS NOT NULL;
