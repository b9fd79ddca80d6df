//! The Ed25519 keys that sign ticket tokens, kept in the `ticket_signing_keys` table.
//!
//! In the database rather than derived from `SECRET_KEY`: rotating the secret (for sessions
//! and CSRF) must never void sold tickets, and a restored backup must keep verifying the
//! tickets it sold. One key signs at a time (`retired_at` NULL); every key in the table
//! verifies, so tickets signed before a `rotate` stay valid. Forging a ticket takes read
//! access to this table (the database or a backup of it); the secret alone is not enough.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use ed25519_dalek::{SigningKey, VerifyingKey};

use crate::db::Db;
use crate::domain::bookings::{Booking, Status};
use crate::domain::ticket_token::{self, TicketClaims};
use crate::domain::tokens::random_token;

/// A key that verifies tickets, as served to the scanners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub key_id: String,
    pub key: VerifyingKey,
    pub created_at: i64,
}

/// How long a process signs with the key it last read before reading again. A rotation
/// made by another process (the CLI) is picked up within this time; until then this process
/// keeps signing with the previous key, which still verifies, so nothing breaks meanwhile.
const SIGNING_KEY_TTL: Duration = Duration::from_secs(60);

/// The signing key last read, per database (tests run many databases in one process).
struct Cached {
    read_at: Instant,
    key_id: String,
    key: SigningKey,
}

static SIGNING_KEYS: LazyLock<Mutex<HashMap<String, Cached>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Which database a pool talks to, as the cache's key.
fn cache_key(db: &Db) -> String {
    db.writer().connect_options().database_url.to_string()
}

fn cached(db: &Db) -> Option<(String, SigningKey)> {
    let cache = SIGNING_KEYS.lock().ok()?;
    let hit = cache.get(&cache_key(db))?;
    (hit.read_at.elapsed() < SIGNING_KEY_TTL).then(|| (hit.key_id.clone(), hit.key.clone()))
}

fn remember(db: &Db, key_id: &str, key: &SigningKey) {
    if let Ok(mut cache) = SIGNING_KEYS.lock() {
        cache.insert(
            cache_key(db),
            Cached {
                read_at: Instant::now(),
                key_id: key_id.to_owned(),
                key: key.clone(),
            },
        );
    }
}

fn forget(db: &Db) {
    if let Ok(mut cache) = SIGNING_KEYS.lock() {
        cache.remove(&cache_key(db));
    }
}

fn corrupt(what: String) -> sqlx::Error {
    sqlx::Error::Decode(what.into())
}

/// A stored key pair: the private key, and a check that the stored public key belongs to it
/// (a mismatch would sign tickets that the served key cannot verify).
fn decode_signing_key(
    key_id: &str,
    private_key: Vec<u8>,
    public_key: &[u8],
) -> Result<SigningKey, sqlx::Error> {
    let bytes: [u8; 32] = private_key
        .try_into()
        .map_err(|_| corrupt(format!("ticket signing key {key_id} is not 32 bytes")))?;
    let key = SigningKey::from_bytes(&bytes);
    if key.verifying_key().as_bytes().as_slice() != public_key {
        return Err(corrupt(format!(
            "ticket signing key {key_id}: the stored public key does not match the private key"
        )));
    }
    Ok(key)
}

fn decode_verifying_key(key_id: &str, public_key: &[u8]) -> Result<VerifyingKey, sqlx::Error> {
    let bytes: &[u8; 32] = public_key
        .try_into()
        .map_err(|_| corrupt(format!("ticket public key {key_id} is not 32 bytes")))?;
    VerifyingKey::from_bytes(bytes).map_err(|_| {
        corrupt(format!(
            "ticket public key {key_id} is not a valid Ed25519 key"
        ))
    })
}

/// A fresh key pair and its id. `rand::random` is a CSPRNG seeded from the OS (ed25519-dalek
/// 2's own key generation wants the older `rand_core` 0.6).
fn new_key() -> (String, SigningKey) {
    (
        random_token(8),
        SigningKey::from_bytes(&rand::random::<[u8; 32]>()),
    )
}

/// The current signing key as stored, if there is one.
async fn load_current(db: &Db) -> Result<Option<(String, SigningKey)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        key_id: String,
        private_key: Vec<u8>,
        public_key: Vec<u8>,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT key_id, private_key, public_key FROM ticket_signing_keys WHERE retired_at IS NULL",
    )
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let key = decode_signing_key(&row.key_id, row.private_key, &row.public_key)?;
    Ok(Some((row.key_id, key)))
}

const INSERT_KEY: &str = "INSERT INTO ticket_signing_keys (key_id, private_key, public_key, created_at) \
     VALUES ($1, $2, $3, $4)";

/// The key that signs new tokens; created on first use (race-safe across processes: insert-if-none guarded by a unique/partial index or ON CONFLICT, then re-read).
pub async fn signing_key(db: &Db, now: i64) -> Result<(String, SigningKey), sqlx::Error> {
    if let Some(hit) = cached(db) {
        return Ok(hit);
    }
    // Two rounds at most: a process that loses the race to create the first key reads the
    // winner's. A third only if a rotation slipped in between (then the new key is read).
    for _ in 0..3 {
        if let Some((key_id, key)) = load_current(db).await? {
            remember(db, &key_id, &key);
            return Ok((key_id, key));
        }
        let (key_id, key) = new_key();
        // The partial unique index admits one current key; a concurrent first use makes
        // this insert nothing.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "{INSERT_KEY} ON CONFLICT DO NOTHING"
        )))
        .bind(&key_id)
        .bind(key.to_bytes().to_vec())
        .bind(key.verifying_key().to_bytes().to_vec())
        .bind(now)
        .execute(db.writer())
        .await?;
    }
    Err(sqlx::Error::RowNotFound)
}

/// Every key whose tokens are still valid (current and previous ones), newest first.
///
/// Read from the database on every call (a handful of rows): a key another process just
/// created is served at once, before any process signs with it.
pub async fn verifying_keys(db: &Db) -> Result<Vec<PublicKey>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        key_id: String,
        public_key: Vec<u8>,
        created_at: i64,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT key_id, public_key, created_at FROM ticket_signing_keys ORDER BY id DESC",
    )
    .fetch_all(db.reader())
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(PublicKey {
                key: decode_verifying_key(&row.key_id, &row.public_key)?,
                created_at: row.created_at,
                key_id: row.key_id,
            })
        })
        .collect()
}

/// A new signing key; the previous ones keep verifying. Returns the new key id.
pub async fn rotate(db: &Db, now: i64) -> Result<String, sqlx::Error> {
    let (key_id, key) = new_key();
    let mut tx = db.begin_write().await?;
    sqlx::query("UPDATE ticket_signing_keys SET retired_at = $1 WHERE retired_at IS NULL")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(INSERT_KEY)
        .bind(&key_id)
        .bind(key.to_bytes().to_vec())
        .bind(key.verifying_key().to_bytes().to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    // This process signs with the new key at once; others within `SIGNING_KEY_TTL`.
    forget(db);
    Ok(key_id)
}

/// What a confirmed booking's ticket says; None for any other booking. `iat` is the
/// confirmation time, so the claims (and the token) never change for a booking.
pub fn claims_for(booking: &Booking) -> Option<TicketClaims> {
    if booking.status != Status::Confirmed {
        return None;
    }
    Some(TicketClaims {
        b: booking.public_id.to_string(),
        s: booking.showtime_id,
        seats: booking.seats.iter().map(|s| s.label.clone()).collect(),
        iat: booking.confirmed_at?.unix_timestamp(),
    })
}

/// The ticket token of a confirmed booking with a key already loaded (for code that cannot
/// await, such as the confirmation email built inside the settlement's transaction).
pub fn sign_booking(booking: &Booking, key: &SigningKey) -> Option<String> {
    claims_for(booking).map(|claims| ticket_token::sign(&claims, key))
}

/// The ticket token of a confirmed booking, None otherwise. Deterministic: iat is the booking's confirmed_at, so rendering it twice gives the same token (Ed25519 signatures are deterministic).
pub async fn ticket_token(db: &Db, booking: &Booking) -> Result<Option<String>, sqlx::Error> {
    if claims_for(booking).is_none() {
        // No key is read (or created) for a booking without a ticket.
        return Ok(None);
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let (_, key) = signing_key(db, now).await?;
    Ok(sign_booking(booking, &key))
}
