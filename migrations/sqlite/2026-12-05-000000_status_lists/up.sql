-- SPEC §3.10, DESIGN.md "Status lists": every access JWT points at one bit of a list of
-- its domain. `reserved` counts the indices handed out to instances (in ranges); the
-- bits live in fixed-size chunks, created with the range that first reaches them, each
-- with a version that goes up with every change (the list's version is their sum).
-- The writer flips the bits itself (`store::status_lists`).
ALTER TABLE domains ADD COLUMN status_list_ttl_secs INTEGER NOT NULL DEFAULT 60;

CREATE TABLE status_lists (
    domain_id  INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    list_no    INTEGER NOT NULL,
    reserved   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (domain_id, list_no)
) STRICT;

CREATE TABLE status_list_chunks (
    domain_id INTEGER NOT NULL,
    list_no   INTEGER NOT NULL,
    chunk_no  INTEGER NOT NULL,
    bits      BLOB    NOT NULL,
    version   INTEGER NOT NULL,
    PRIMARY KEY (domain_id, list_no, chunk_no),
    FOREIGN KEY (domain_id, list_no) REFERENCES status_lists (domain_id, list_no) ON DELETE CASCADE
) STRICT;

-- Access tokens only; NULL for refresh tokens and for tokens issued before this.
ALTER TABLE tokens ADD COLUMN status_list INTEGER;
ALTER TABLE tokens ADD COLUMN status_idx INTEGER;
