-- Built CONCURRENTLY: SHARE UPDATE EXCLUSIVE only, the app's writes go on while it builds.
CREATE INDEX CONCURRENTLY inspection_notes_created_at_idx ON inspection_notes (created_at);
