-- Status-list bits set by revocations wait here as rows until a background task folds
-- them into their chunk (`store::status_lists::fold_pending`). Concurrent revocations
-- then insert distinct rows instead of updating the one chunk row their tokens share
-- (they waited for each other's commit on it: BENCHMARKS.md, issue 14). A list's
-- version is its chunks' versions plus its pending rows; a fold moves rows into the
-- chunk and adds their number to the chunk's version, so the sum stays as it was.
-- No foreign key: checking one would lock the chunk's row for every insert, the very
-- row this table keeps revocations off. The fold only takes rows whose chunk exists.
CREATE TABLE status_list_pending (
    domain_id BIGINT NOT NULL,
    list_no   BIGINT NOT NULL,
    idx       BIGINT NOT NULL,
    PRIMARY KEY (domain_id, list_no, idx)
);
