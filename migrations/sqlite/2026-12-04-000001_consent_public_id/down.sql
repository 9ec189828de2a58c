DROP INDEX consents_by_public_id;
ALTER TABLE consents DROP COLUMN public_id;
