-- No lock_timeout: behind a long-running read it waits for its ACCESS EXCLUSIVE lock for as
-- long as the read lasts, and every query of the app queues behind it.
ALTER TABLE inspection_notes ADD COLUMN flagged boolean;
