-- revokd's whole data model (SPEC §2).
--
-- Conventions, the same on both backends:
-- * Every domain-owned table starts its keys with domain_id, so the schema can be
--   distributed by domain (e.g. Citus) and no query can forget its tenant.
-- * `*_ref` columns hold the internal BIGINT id of another row of the same domain;
--   public identifiers (client_id, username) live only in their own tables.
-- * Times are BIGINT Unix microseconds (UTC), so SQLite and PostgreSQL agree exactly.
-- * Token hashes are the 32 raw bytes of SHA-256, never hex text.

CREATE TABLE domains (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                      TEXT    NOT NULL UNIQUE,
    access_token_ttl_secs     BIGINT  NOT NULL CHECK (access_token_ttl_secs >= 1),
    refresh_token_ttl_secs    BIGINT  NOT NULL CHECK (refresh_token_ttl_secs >= 1),
    public_clients_can_revoke BOOLEAN NOT NULL,
    created_at                BIGINT  NOT NULL,
    updated_at                BIGINT  NOT NULL
);

CREATE TABLE clients (
    domain_id    BIGINT  NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id           BIGINT  GENERATED ALWAYS AS IDENTITY,
    client_id    TEXT    NOT NULL,
    client_type  TEXT    NOT NULL CHECK (client_type IN ('confidential', 'public')),
    -- SHA-256 of the server-generated secret; present exactly for confidential clients.
    secret_hash  BYTEA   CHECK (octet_length(secret_hash) = 32),
    grant_types  TEXT    NOT NULL, -- space-separated, like an OAuth scope string
    scopes       TEXT    NOT NULL, -- space-separated scope-tokens (RFC 6749 §3.3)
    domain_admin BOOLEAN NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (domain_id, id),
    UNIQUE (domain_id, client_id),
    CHECK ((client_type = 'confidential') = (secret_hash IS NOT NULL))
);

CREATE TABLE users (
    domain_id     BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id            BIGINT GENERATED ALWAYS AS IDENTITY,
    username      TEXT   NOT NULL,
    password_hash TEXT   NOT NULL, -- Argon2id, PHC string format
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (domain_id, id),
    UNIQUE (domain_id, username)
);

CREATE TABLE consents (
    domain_id      BIGINT NOT NULL,
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    user_ref       BIGINT NOT NULL,
    client_ref     BIGINT NOT NULL,
    scopes         TEXT   NOT NULL,
    granted_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT,
    PRIMARY KEY (domain_id, id),
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE
);
-- One active grant per (domain, user, client).
CREATE UNIQUE INDEX consents_active ON consents (domain_id, user_ref, client_ref)
    WHERE revoked_at IS NULL;
CREATE INDEX consents_by_client ON consents (domain_id, client_ref);

CREATE TABLE signing_keys (
    domain_id   BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id          BIGINT GENERATED ALWAYS AS IDENTITY,
    kid         TEXT   NOT NULL,
    algorithm   TEXT   NOT NULL,
    private_key BYTEA  NOT NULL, -- PKCS#8 DER; never leaves the store
    public_jwk  TEXT   NOT NULL, -- JSON object, the only part JWKS shows
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT,
    PRIMARY KEY (domain_id, id),
    UNIQUE (domain_id, kid)
);

-- Everything one password grant and its later refreshes issued.
CREATE TABLE token_families (
    domain_id      BIGINT NOT NULL,
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    client_ref     BIGINT NOT NULL,
    user_ref       BIGINT,
    consent_ref    BIGINT,
    created_at     BIGINT NOT NULL,
    revoked_at     BIGINT,
    revoked_reason TEXT,
    PRIMARY KEY (domain_id, id),
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, consent_ref) REFERENCES consents (domain_id, id) ON DELETE CASCADE
);
CREATE INDEX token_families_by_consent ON token_families (domain_id, consent_ref)
    WHERE consent_ref IS NOT NULL;

CREATE TABLE tokens (
    domain_id      BIGINT NOT NULL,
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    kind           TEXT   NOT NULL CHECK (kind IN ('access', 'refresh')),
    token_hash     BYTEA  NOT NULL CHECK (octet_length(token_hash) = 32),
    jti            TEXT   NOT NULL,
    family_ref     BIGINT,
    -- The refresh token this one was minted from (rotation, or an access token of a
    -- refresh grant).
    parent_ref     BIGINT,
    client_ref     BIGINT NOT NULL,
    user_ref       BIGINT,
    consent_ref    BIGINT,
    scopes         TEXT   NOT NULL,
    issued_at      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    rotated_at     BIGINT, -- refresh tokens: when a refresh grant replaced it
    revoked_at     BIGINT,
    revoked_by     TEXT,   -- who revoked it: a client_id, "operator", "user:<name>", ...
    revoked_reason TEXT,
    PRIMARY KEY (domain_id, id),
    FOREIGN KEY (domain_id, family_ref) REFERENCES token_families (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, parent_ref) REFERENCES tokens (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, consent_ref) REFERENCES consents (domain_id, id) ON DELETE CASCADE
);
-- The hot path: every revocation and introspection finds its token here.
CREATE UNIQUE INDEX tokens_by_hash ON tokens (domain_id, token_hash);
CREATE INDEX tokens_by_family ON tokens (domain_id, family_ref) WHERE family_ref IS NOT NULL;
CREATE INDEX tokens_by_parent ON tokens (domain_id, parent_ref) WHERE parent_ref IS NOT NULL;
CREATE INDEX tokens_by_consent ON tokens (domain_id, consent_ref) WHERE consent_ref IS NOT NULL;
CREATE INDEX tokens_by_client ON tokens (domain_id, client_ref, issued_at);
CREATE INDEX tokens_by_user ON tokens (domain_id, user_ref, issued_at) WHERE user_ref IS NOT NULL;

CREATE TABLE audit_events (
    domain_id   BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id          BIGINT GENERATED ALWAYS AS IDENTITY,
    occurred_at BIGINT NOT NULL,
    action      TEXT   NOT NULL,
    actor       TEXT   NOT NULL,
    request_id  TEXT,
    details     TEXT   NOT NULL, -- JSON object; never a token or a secret
    PRIMARY KEY (domain_id, id)
);
