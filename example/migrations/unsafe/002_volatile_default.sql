-- A volatile default: each row gets a value of its own, so the table is rewritten under
-- ACCESS EXCLUSIVE (no read or write gets through until it is done).
SET lock_timeout = '5s';
ALTER TABLE inspection_notes ADD COLUMN shard double precision DEFAULT random();
