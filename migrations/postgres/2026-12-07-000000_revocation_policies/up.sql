-- SPEC §3.12: at most one revocation policy per domain, a CEL expression run before
-- every client revocation. Stored as written; every instance compiles it on first use
-- and drops its compiled copy when the directory's notification says it changed.
CREATE TABLE revocation_policies (
    domain_id  BIGINT  NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    expression TEXT    NOT NULL,
    enabled    BOOLEAN NOT NULL,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (domain_id)
);
