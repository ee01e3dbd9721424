-- SET NOT NULL proved by a validated CHECK: Postgres skips the full scan it would otherwise
-- make under ACCESS EXCLUSIVE.
SET lock_timeout = '2s';
ALTER TABLE inspection_notes ADD CONSTRAINT inspection_notes_reviewed_not_null CHECK (reviewed IS NOT NULL) NOT VALID;
ALTER TABLE inspection_notes VALIDATE CONSTRAINT inspection_notes_reviewed_not_null;
ALTER TABLE inspection_notes ALTER COLUMN reviewed SET NOT NULL;
ALTER TABLE inspection_notes DROP CONSTRAINT inspection_notes_reviewed_not_null;
