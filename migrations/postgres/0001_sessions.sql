-- Server-side sessions (tower-sessions), shared by every web process.
CREATE TABLE sessions (
    id          TEXT PRIMARY KEY NOT NULL,
    user_id     BIGINT,
    data        TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
