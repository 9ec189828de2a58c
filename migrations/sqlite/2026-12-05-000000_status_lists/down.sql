ALTER TABLE tokens DROP COLUMN status_idx;
ALTER TABLE tokens DROP COLUMN status_list;
DROP TABLE status_list_chunks;
DROP TABLE status_lists;
ALTER TABLE domains DROP COLUMN status_list_ttl_secs;
