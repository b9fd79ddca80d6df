-- How many account emails (verification links, password resets, "someone tried to sign up
-- with your address") went to one address in one clock hour. A conditional upsert on this
-- row decides whether another may go, so the limit holds across every web process and no
-- header trick that escapes the per-address request limits can mail-bomb an inbox.
CREATE TABLE mail_quota (
    recipient TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    sent INTEGER NOT NULL,
    PRIMARY KEY (recipient, window_start)
);
-- The background job deletes finished windows.
CREATE INDEX mail_quota_window ON mail_quota (window_start);
