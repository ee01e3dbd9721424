-- A type change that is not binary-compatible: every row rewritten under ACCESS EXCLUSIVE.
SET lock_timeout = '5s';
ALTER TABLE inspection_notes ALTER COLUMN inspection_id TYPE numeric;
