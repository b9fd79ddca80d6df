-- Bookings, the seats on them, and the live seat claims that enforce the booking invariant.
-- status: pending (seats held until hold_expires_at) -> confirmed | expired | cancelled;
--         confirmed -> refunded.
CREATE TABLE bookings (
    id                 INTEGER PRIMARY KEY,
    public_id          TEXT NOT NULL UNIQUE,
    code               TEXT NOT NULL UNIQUE,
    user_id            INTEGER NOT NULL REFERENCES users (id),
    showtime_id        INTEGER NOT NULL REFERENCES showtimes (id),
    status             TEXT NOT NULL,
    hold_expires_at    INTEGER NOT NULL,
    hold_extended      INTEGER NOT NULL DEFAULT 0,
    seats_paise        INTEGER NOT NULL,
    fee_paise          INTEGER NOT NULL,
    tax_paise          INTEGER NOT NULL,
    total_paise        INTEGER NOT NULL,
    razorpay_order_id  TEXT UNIQUE,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    confirmed_at       INTEGER,
    closed_at          INTEGER,
    -- Lease of the reconciliation job (one process asks Razorpay about one order at a time).
    reconcile_claimed_until INTEGER
);
CREATE INDEX bookings_user_id ON bookings (user_id, created_at);
CREATE INDEX bookings_showtime_id ON bookings (showtime_id);
CREATE INDEX bookings_status_expiry ON bookings (status, hold_expires_at);
-- One pending booking per user and showtime: holding again replaces the earlier hold.
CREATE UNIQUE INDEX bookings_one_pending_per_showtime ON bookings (user_id, showtime_id)
    WHERE status = 'pending';

-- The seats of a booking with the price each had at hold time (kept after it ends).
CREATE TABLE booking_seats (
    id             INTEGER PRIMARY KEY,
    booking_id     INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    seat_id        INTEGER NOT NULL REFERENCES seats (id),
    label          TEXT NOT NULL,
    category_name  TEXT NOT NULL,
    price_paise    INTEGER NOT NULL
);
CREATE INDEX booking_seats_booking_id ON booking_seats (booking_id);
CREATE INDEX booking_seats_seat_id ON booking_seats (seat_id);

-- A row here is a claim on a seat of a showtime. It is live while its booking is confirmed
-- (expires_at NULL) or pending and expires_at is in the future; rows of bookings that end
-- are deleted in the same transaction. The unique index is the booking invariant.
CREATE TABLE seat_claims (
    id           INTEGER PRIMARY KEY,
    showtime_id  INTEGER NOT NULL REFERENCES showtimes (id),
    seat_id      INTEGER NOT NULL REFERENCES seats (id),
    booking_id   INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    expires_at   INTEGER
);
CREATE UNIQUE INDEX seat_claims_one_per_seat ON seat_claims (showtime_id, seat_id);
CREATE INDEX seat_claims_booking_id ON seat_claims (booking_id);
CREATE INDEX seat_claims_seat_id ON seat_claims (seat_id);
