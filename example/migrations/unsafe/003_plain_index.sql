-- Not CONCURRENTLY: the build reads the whole table under a SHARE lock, and every write waits.
SET lock_timeout = '5s';
CREATE INDEX inspection_notes_body_idx ON inspection_notes (body);
