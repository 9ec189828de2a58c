-- SPEC §3.10, DESIGN.md "Status lists": every access JWT points at one bit of a list of
-- its domain. `reserved` counts the indices handed out to instances (in ranges, so
-- issuance never waits on this row); the bits live in fixed-size chunks, created with
-- the range that first reaches them, each with a version that goes up with every change
-- (the list's version, and its ETag, is their sum).
ALTER TABLE domains ADD COLUMN status_list_ttl_secs BIGINT NOT NULL DEFAULT 60;

CREATE TABLE status_lists (
    domain_id  BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
    list_no    BIGINT NOT NULL,
    reserved   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (domain_id, list_no)
);

CREATE TABLE status_list_chunks (
    domain_id BIGINT NOT NULL,
    list_no   BIGINT NOT NULL,
    chunk_no  BIGINT NOT NULL,
    bits      BYTEA  NOT NULL,
    version   BIGINT NOT NULL,
    PRIMARY KEY (domain_id, list_no, chunk_no),
    FOREIGN KEY (domain_id, list_no) REFERENCES status_lists (domain_id, list_no) ON DELETE CASCADE
);

-- Access tokens only; NULL for refresh tokens and for tokens issued before this.
ALTER TABLE tokens ADD COLUMN status_list BIGINT;
ALTER TABLE tokens ADD COLUMN status_idx BIGINT;

-- Sets the bits at these offsets of a chunk (bit n: bit n % 8, least significant
-- first, of byte n / 8, the draft's order and set_bit's). One call per chunk, so a
-- revocation's statement can set every bit it ends in one UPDATE.
CREATE FUNCTION revokd_set_bits(chunk BYTEA, offsets BIGINT[]) RETURNS BYTEA
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    o BIGINT;
BEGIN
    FOREACH o IN ARRAY offsets LOOP
        chunk := set_bit(chunk, o::integer, 1);
    END LOOP;
    RETURN chunk;
END
$$;
