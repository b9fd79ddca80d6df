-- Staff resolve payment incidents from /admin/incidents: who resolved one and the note they
-- wrote (resolved_at, from 0006, says when). The resolver's account outlives the note
-- (deactivated, not deleted); SET NULL keeps the incident should it ever be deleted.
ALTER TABLE payment_incidents
    ADD COLUMN resolved_by_user_id BIGINT REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE payment_incidents ADD COLUMN resolution TEXT;
CREATE INDEX payment_incidents_resolved_by ON payment_incidents (resolved_by_user_id);
-- The incidents page lists open ones newest first.
CREATE INDEX payment_incidents_open ON payment_incidents (resolved_at, created_at);
