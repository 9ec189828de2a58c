DROP TABLE audit_events;
DROP TABLE tokens;
DROP TABLE token_families;
DROP TABLE signing_keys;
DROP TABLE consents;
DROP TABLE users;
DROP TABLE clients;
DROP TABLE domains;
