-- Every outgoing email is written here first; the background job retries failed sends.
-- The table doubles as the email log staff can read.
CREATE TABLE email_outbox (
    id               INTEGER PRIMARY KEY,
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    attachments      TEXT NOT NULL DEFAULT '[]',
    kind             TEXT NOT NULL,
    dedupe_key       TEXT UNIQUE,
    user_id          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    booking_id       INTEGER,
    status           TEXT NOT NULL DEFAULT 'queued',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    next_attempt_at  INTEGER NOT NULL,
    claimed_until    INTEGER,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox (status, next_attempt_at);
CREATE INDEX email_outbox_user_id ON email_outbox (user_id);
CREATE INDEX email_outbox_booking_id ON email_outbox (booking_id);
