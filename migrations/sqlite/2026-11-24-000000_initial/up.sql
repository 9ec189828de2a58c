-- revokd's whole data model (SPEC §2), the SQLite twin of migrations/postgres.
--
-- Conventions, the same on both backends:
-- * Every domain-owned table starts its keys with domain_id, so no query can forget
--   its tenant. Here `id INTEGER PRIMARY KEY` is SQLite's rowid (cheapest key there is)
--   and UNIQUE (domain_id, id) is the composite key the foreign keys point at.
--   Domains and clients use AUTOINCREMENT so a deleted row's id is never handed out
--   again: in-process caches key on these ids (PostgreSQL identities never repeat).
-- * `*_ref` columns hold the internal id of another row of the same domain;
--   public identifiers (client_id, username) live only in their own tables.
-- * Times are INTEGER Unix microseconds (UTC), so SQLite and PostgreSQL agree exactly.
-- * Token hashes are the 32 raw bytes of SHA-256, never hex text.
-- * STRICT tables: a value of the wrong type is an error, as on PostgreSQL.

CREATE TABLE domains (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    name                      TEXT    NOT NULL UNIQUE,
    access_token_ttl_secs     INTEGER NOT NULL CHECK (access_token_ttl_secs >= 1),
    refresh_token_ttl_secs    INTEGER NOT NULL CHECK (refresh_token_ttl_secs >= 1),
    public_clients_can_revoke INTEGER NOT NULL CHECK (public_clients_can_revoke IN (0, 1)),
    created_at                INTEGER NOT NULL,
    updated_at                INTEGER NOT NULL
) STRICT;

CREATE TABLE clients (
    domain_id    INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id    TEXT    NOT NULL,
    client_type  TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    -- SHA-256 of the server-generated secret; present exactly for confidential clients.
    secret_hash  BLOB    CHECK (length(secret_hash) = 32),
    grant_types  TEXT    NOT NULL, -- space-separated, like an OAuth scope string
    scopes       TEXT    NOT NULL, -- space-separated scope-tokens (RFC 6749 §3.3)
    domain_admin INTEGER NOT NULL CHECK (domain_admin IN (0, 1)),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (domain_id, id),
    UNIQUE (domain_id, client_id),
    CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
) STRICT;

CREATE TABLE users (
    domain_id     INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL,
    password_hash TEXT    NOT NULL, -- Argon2id, PHC string format
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (domain_id, id),
    UNIQUE (domain_id, username)
) STRICT;

CREATE TABLE consents (
    domain_id      INTEGER NOT NULL,
    id             INTEGER PRIMARY KEY,
    user_ref       INTEGER NOT NULL,
    client_ref     INTEGER NOT NULL,
    scopes         TEXT    NOT NULL,
    granted_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT,
    UNIQUE (domain_id, id),
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE
) STRICT;
-- One active grant per (domain, user, client).
CREATE UNIQUE INDEX consents_active ON consents (domain_id, user_ref, client_ref)
    WHERE revoked_at IS NULL;
CREATE INDEX consents_by_client ON consents (domain_id, client_ref);

CREATE TABLE signing_keys (
    domain_id   INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id          INTEGER PRIMARY KEY,
    kid         TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL,
    private_key BLOB    NOT NULL, -- PKCS#8 DER; never leaves the store
    public_jwk  TEXT    NOT NULL, -- JSON object, the only part JWKS shows
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER,
    UNIQUE (domain_id, id),
    UNIQUE (domain_id, kid)
) STRICT;

-- Everything one password grant and its later refreshes issued.
CREATE TABLE token_families (
    domain_id      INTEGER NOT NULL,
    id             INTEGER PRIMARY KEY,
    client_ref     INTEGER NOT NULL,
    user_ref       INTEGER,
    consent_ref    INTEGER,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER,
    revoked_reason TEXT,
    UNIQUE (domain_id, id),
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, consent_ref) REFERENCES consents (domain_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX token_families_by_consent ON token_families (domain_id, consent_ref)
    WHERE consent_ref IS NOT NULL;

CREATE TABLE tokens (
    domain_id      INTEGER NOT NULL,
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash     BLOB    NOT NULL CHECK (length(token_hash) = 32),
    jti            TEXT    NOT NULL,
    family_ref     INTEGER,
    -- The refresh token this one was minted from (rotation, or an access token of a
    -- refresh grant).
    parent_ref     INTEGER,
    client_ref     INTEGER NOT NULL,
    user_ref       INTEGER,
    consent_ref    INTEGER,
    scopes         TEXT    NOT NULL,
    issued_at      INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    rotated_at     INTEGER, -- refresh tokens: when a refresh grant replaced it
    revoked_at     INTEGER,
    revoked_by     TEXT,    -- who revoked it: a client_id, "operator", "user:<name>", ...
    revoked_reason TEXT,
    UNIQUE (domain_id, id),
    FOREIGN KEY (domain_id, family_ref) REFERENCES token_families (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, parent_ref) REFERENCES tokens (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, consent_ref) REFERENCES consents (domain_id, id) ON DELETE CASCADE
) STRICT;
-- The hot path: every revocation and introspection finds its token here.
CREATE UNIQUE INDEX tokens_by_hash ON tokens (domain_id, token_hash);
CREATE INDEX tokens_by_family ON tokens (domain_id, family_ref) WHERE family_ref IS NOT NULL;
CREATE INDEX tokens_by_parent ON tokens (domain_id, parent_ref) WHERE parent_ref IS NOT NULL;
CREATE INDEX tokens_by_consent ON tokens (domain_id, consent_ref) WHERE consent_ref IS NOT NULL;
CREATE INDEX tokens_by_client ON tokens (domain_id, client_ref, issued_at);
CREATE INDEX tokens_by_user ON tokens (domain_id, user_ref, issued_at) WHERE user_ref IS NOT NULL;

CREATE TABLE audit_events (
    domain_id   INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id          INTEGER PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    request_id  TEXT,
    details     TEXT    NOT NULL, -- JSON object; never a token or a secret
    UNIQUE (domain_id, id)
) STRICT;
