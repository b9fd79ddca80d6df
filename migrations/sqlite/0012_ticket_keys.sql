-- The Ed25519 keys that sign ticket tokens (the QR code). They live in the database, not in
-- SECRET_KEY, so that changing the secret never voids a sold ticket and a restored backup
-- keeps verifying. Every row verifies; the one row with retired_at NULL also signs new
-- tickets (`moviebooking rotate-ticket-key` retires it and adds another). Deleting a row
-- revokes every ticket signed with it.
CREATE TABLE ticket_signing_keys (
    id          INTEGER PRIMARY KEY,
    key_id      TEXT NOT NULL UNIQUE,
    private_key BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    retired_at  BIGINT
);
-- At most one signing key: the first use in two processes at once inserts one row, not two.
CREATE UNIQUE INDEX ticket_signing_keys_one_current
    ON ticket_signing_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
