-- SET NOT NULL without a validated CHECK: the whole table is scanned under ACCESS EXCLUSIVE.
SET lock_timeout = '5s';
ALTER TABLE inspection_notes ALTER COLUMN shard SET NOT NULL;
