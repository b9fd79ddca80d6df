-- Who did what in the admin pages (and the create-staff command): one row per action, with
-- a before/after summary. Rows outlive the actor (actor_user_id is set NULL).
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    actor_user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    action         TEXT NOT NULL,
    target_type    TEXT NOT NULL,
    target_id      TEXT NOT NULL,
    summary        TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id, created_at);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, created_at);
