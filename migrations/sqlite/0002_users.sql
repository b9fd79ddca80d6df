-- Accounts: moviegoers and staff, their one-time tokens and login attempts.
CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    is_staff             INTEGER NOT NULL DEFAULT 0,
    is_active            INTEGER NOT NULL DEFAULT 1,
    email_verified_at    INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE user_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX user_tokens_user_id ON user_tokens (user_id);

CREATE TABLE login_attempts (
    id           INTEGER PRIMARY KEY,
    email        TEXT NOT NULL,
    client_ip    TEXT NOT NULL,
    succeeded    INTEGER NOT NULL,
    attempted_at INTEGER NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_ip ON login_attempts (client_ip, attempted_at);
