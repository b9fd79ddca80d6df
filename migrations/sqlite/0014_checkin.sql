-- The door: scanner devices (a name, one theatre, a token stored hashed), admissions (one
-- live row per booking: whichever door writes first admits, every other scan is "already
-- admitted"; an undo keeps the row and frees the index) and the scans synced from devices
-- that worked offline (idempotent by the device's client id; a scan that lost to another
-- door's admission is a conflict for staff to see).
CREATE TABLE checkin_devices (
    id                  INTEGER PRIMARY KEY,
    theatre_id          INTEGER NOT NULL REFERENCES theatres (id),
    name                TEXT NOT NULL,
    token_hash          TEXT NOT NULL UNIQUE,
    created_by_user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at          INTEGER NOT NULL,
    revoked_at          INTEGER,
    last_seen_at        INTEGER
);
CREATE INDEX checkin_devices_theatre_id ON checkin_devices (theatre_id);
CREATE INDEX checkin_devices_created_by ON checkin_devices (created_by_user_id);

CREATE TABLE admissions (
    id                  INTEGER PRIMARY KEY,
    booking_id          INTEGER NOT NULL REFERENCES bookings (id),
    showtime_id         INTEGER NOT NULL REFERENCES showtimes (id),
    admitted_at         INTEGER NOT NULL,
    recorded_at         INTEGER NOT NULL,
    by_user_id          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    by_device_id        INTEGER REFERENCES checkin_devices (id),
    by_name             TEXT NOT NULL,
    undone_at           INTEGER,
    undone_by_user_id   INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX admissions_one_live_per_booking ON admissions (booking_id) WHERE undone_at IS NULL;
CREATE INDEX admissions_booking_id ON admissions (booking_id);
CREATE INDEX admissions_showtime_id ON admissions (showtime_id);
CREATE INDEX admissions_by_user_id ON admissions (by_user_id);
CREATE INDEX admissions_by_device_id ON admissions (by_device_id);
CREATE INDEX admissions_undone_by ON admissions (undone_by_user_id);

CREATE TABLE checkin_scans (
    client_id           TEXT PRIMARY KEY,
    showtime_id         INTEGER REFERENCES showtimes (id),
    booking_id          INTEGER REFERENCES bookings (id),
    by_device_id        INTEGER REFERENCES checkin_devices (id),
    by_name             TEXT NOT NULL,
    scanned_at          INTEGER NOT NULL,
    result              TEXT NOT NULL,
    conflict            INTEGER NOT NULL DEFAULT 0,
    created_at          INTEGER NOT NULL
);
CREATE INDEX checkin_scans_showtime_conflict ON checkin_scans (showtime_id, conflict);
CREATE INDEX checkin_scans_booking_id ON checkin_scans (booking_id);
CREATE INDEX checkin_scans_device_id ON checkin_scans (by_device_id);
