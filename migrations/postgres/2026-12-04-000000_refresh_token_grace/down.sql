ALTER TABLE domains DROP COLUMN refresh_token_grace_secs;
