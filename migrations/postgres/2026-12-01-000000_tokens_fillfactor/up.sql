-- A token row is written once and updated at most about twice (revoked, rotated), and
-- neither update touches an indexed column. With room left on every page, PostgreSQL
-- keeps the new version on the same page (a HOT update): no new entry in any of the
-- table's indexes and far less WAL, which is most of what a revocation costs it.
-- PostgreSQL only: SQLite updates a row in place.
ALTER TABLE tokens SET (fillfactor = 85);
