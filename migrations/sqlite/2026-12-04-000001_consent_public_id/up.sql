-- SPEC §3.5: a consent is named to its user by an opaque id with 128 random bits, never
-- by the integer that orders every domain's consents. Existing consents get one here;
-- new ones get theirs from revokd (the '' default only lets SQLite add the column).
ALTER TABLE consents ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE consents SET public_id = lower(hex(randomblob(16)));
CREATE UNIQUE INDEX consents_by_public_id ON consents (domain_id, public_id);
