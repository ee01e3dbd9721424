-- A column with a constant default: no rewrite (Postgres 11 and later), a short ACCESS
-- EXCLUSIVE lock, taken with a lock_timeout so that it gives up rather than queue the app.
SET lock_timeout = '2s';
ALTER TABLE inspection_notes ADD COLUMN reviewed boolean DEFAULT false;
