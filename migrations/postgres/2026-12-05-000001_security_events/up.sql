-- SPEC §3.13: a disabled user gets no tokens (their tokens die by a watermark when
-- disabled); a password change revokes the user's tokens unless the domain says not to.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE domains ADD COLUMN revoke_on_password_change BOOLEAN NOT NULL DEFAULT TRUE;
