-- Money: captured payments (one per Razorpay payment id), refunds (at most one per payment,
-- sent with an idempotency key), webhook deliveries already handled, and payment problems
-- that need a person.
CREATE TABLE payments (
    id                   INTEGER PRIMARY KEY,
    booking_id           INTEGER NOT NULL REFERENCES bookings (id),
    razorpay_payment_id  TEXT NOT NULL UNIQUE,
    razorpay_order_id    TEXT NOT NULL,
    amount_paise         INTEGER NOT NULL,
    currency             TEXT NOT NULL,
    status               TEXT NOT NULL,
    created_at           INTEGER NOT NULL
);
CREATE INDEX payments_booking_id ON payments (booking_id);
CREATE INDEX payments_order_id ON payments (razorpay_order_id);

CREATE TABLE refunds (
    id                  INTEGER PRIMARY KEY,
    booking_id          INTEGER NOT NULL REFERENCES bookings (id),
    payment_id          INTEGER NOT NULL UNIQUE REFERENCES payments (id),
    amount_paise        INTEGER NOT NULL,
    reason              TEXT NOT NULL,
    idempotency_key     TEXT NOT NULL UNIQUE,
    razorpay_refund_id  TEXT UNIQUE,
    status              TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    claimed_until       INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX refunds_booking_id ON refunds (booking_id);
CREATE INDEX refunds_status ON refunds (status, claimed_until);

CREATE TABLE webhook_events (
    id           INTEGER PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    event_type   TEXT NOT NULL,
    received_at  INTEGER NOT NULL
);

CREATE TABLE payment_incidents (
    id                   INTEGER PRIMARY KEY,
    booking_id           INTEGER REFERENCES bookings (id),
    razorpay_order_id    TEXT,
    razorpay_payment_id  TEXT,
    kind                 TEXT NOT NULL,
    detail               TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    resolved_at          INTEGER
);
CREATE INDEX payment_incidents_booking_id ON payment_incidents (booking_id);
