-- SPEC §3.13: a disabled user gets no tokens (their tokens die by a watermark when
-- disabled); a password change revokes the user's tokens unless the domain says not to.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
ALTER TABLE domains ADD COLUMN revoke_on_password_change INTEGER NOT NULL DEFAULT 1
    CHECK (revoke_on_password_change IN (0, 1));
