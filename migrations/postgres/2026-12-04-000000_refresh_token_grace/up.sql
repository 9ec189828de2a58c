-- SPEC §3.3: how long a confidential client may retry a refresh whose answer it lost.
ALTER TABLE domains ADD COLUMN refresh_token_grace_secs BIGINT NOT NULL DEFAULT 30;
