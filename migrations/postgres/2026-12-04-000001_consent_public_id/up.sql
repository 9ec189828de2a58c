-- SPEC §3.5: a consent is named to its user by an opaque id with 128 random bits, never
-- by the integer that orders every domain's consents. Existing consents get one here
-- (from two strong-random UUIDs); new ones get theirs from revokd.
ALTER TABLE consents ADD COLUMN public_id TEXT NOT NULL DEFAULT '';
UPDATE consents
   SET public_id = left(encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')), 'hex'), 32);
ALTER TABLE consents ALTER COLUMN public_id DROP DEFAULT;
CREATE UNIQUE INDEX consents_by_public_id ON consents (domain_id, public_id);
