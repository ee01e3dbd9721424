-- A constraint added NOT VALID (a short lock, no scan), then validated: the scan runs under
-- SHARE UPDATE EXCLUSIVE, which blocks no write.
SET lock_timeout = '2s';
ALTER TABLE inspection_notes ADD CONSTRAINT inspection_notes_body_length CHECK (length(body) <= 10000) NOT VALID;
ALTER TABLE inspection_notes VALIDATE CONSTRAINT inspection_notes_body_length;
