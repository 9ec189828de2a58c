ALTER TABLE domains DROP COLUMN revoke_on_password_change;
ALTER TABLE users DROP COLUMN disabled_at;
