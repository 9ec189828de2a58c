-- Bulk revocation (SPEC §3.7 `revocations`) without one write per token: a watermark
-- says "every token of this user and/or client (of this kind) issued before this
-- instant is revoked", and every look-up checks it. A million tokens die with one row.
CREATE TABLE revocation_watermarks (
    domain_id      BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    id             BIGINT GENERATED ALWAYS AS IDENTITY,
    user_ref       BIGINT,
    client_ref     BIGINT,
    token_kind     TEXT CHECK (token_kind IN ('access', 'refresh')), -- NULL: both kinds
    revoked_before BIGINT NOT NULL,
    reason         TEXT,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (domain_id, id),
    CHECK (user_ref IS NOT NULL OR client_ref IS NOT NULL),
    FOREIGN KEY (domain_id, user_ref) REFERENCES users (domain_id, id) ON DELETE CASCADE,
    FOREIGN KEY (domain_id, client_ref) REFERENCES clients (domain_id, id) ON DELETE CASCADE
);
CREATE INDEX revocation_watermarks_by_user ON revocation_watermarks (domain_id, user_ref);
CREATE INDEX revocation_watermarks_by_client ON revocation_watermarks (domain_id, client_ref);
