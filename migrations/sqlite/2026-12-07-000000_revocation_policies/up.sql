-- SPEC §3.12: at most one revocation policy per domain, a CEL expression run before
-- every client revocation. Stored as written; the process compiles it on first use.
CREATE TABLE revocation_policies (
    domain_id  INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    expression TEXT    NOT NULL,
    enabled    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (domain_id)
) STRICT;
