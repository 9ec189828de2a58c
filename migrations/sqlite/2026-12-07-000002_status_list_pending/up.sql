-- The same table as on PostgreSQL, where revocations queue their status-list bits in
-- it. SQLite's one writer sets the bits in the chunks directly (nothing waits on a
-- chunk there), so here it stays empty; it exists so both backends have one schema.
CREATE TABLE status_list_pending (
    domain_id INTEGER NOT NULL,
    list_no   INTEGER NOT NULL,
    idx       INTEGER NOT NULL,
    PRIMARY KEY (domain_id, list_no, idx)
) STRICT;
