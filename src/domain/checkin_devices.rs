//! Scanner devices: a phone or handheld at one theatre's door that admits tickets through
//! the check-in API with `Authorization: Bearer <token>`, without a staff login.
//!
//! Managers create and revoke them. A device's token is shown once, when it is created, and
//! only its SHA-256 is stored, so the table alone cannot be used to scan. A device works
//! only the doors of its own theatre; a revoked one is refused at once, everywhere.

use time::OffsetDateTime;

use crate::db::decode::{MaybeUnixSeconds, UnixSeconds};
use crate::db::{Db, from_unix, unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::ids::{DeviceId, TheatreId, UserId};
use crate::domain::tokens::{hash_token, is_token_shaped, random_token};

/// The prefix of device tokens, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "mbdev_";
/// Random characters after the prefix: 43 * 6 = 258 bits.
const TOKEN_RANDOM: usize = 43;
/// The longest name a device may have.
pub const NAME_MAX: usize = 60;

/// A device as staff see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Device {
    pub id: DeviceId,
    pub theatre_id: TheatreId,
    pub theatre_name: String,
    pub name: String,
    #[sqlx(try_from = "UnixSeconds")]
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "MaybeUnixSeconds")]
    pub revoked_at: Option<OffsetDateTime>,
    #[sqlx(try_from = "MaybeUnixSeconds")]
    pub last_seen_at: Option<OffsetDateTime>,
}

impl Device {
    /// Whether the device still works (it has not been revoked).
    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

/// A live device, as a bearer token identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLogin {
    pub id: DeviceId,
    pub theatre_id: TheatreId,
    pub name: String,
}

/// Why a device was not created.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("Give the device a name of 1 to {NAME_MAX} characters, e.g. \"Door 1\".")]
    BadName,
    #[error("Choose the theatre whose doors the device works.")]
    UnknownTheatre,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Creates a device for `theatre_id`, audited; returns it with its token, the only time
/// the token exists outside the device.
pub async fn create(
    db: &Db,
    actor_id: UserId,
    theatre_id: TheatreId,
    name: &str,
    now: i64,
) -> Result<(Device, String), DeviceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(DeviceError::BadName);
    }
    let token = format!("{TOKEN_PREFIX}{}", random_token(TOKEN_RANDOM));
    let mut tx = db.begin_write().await?;
    let theatre: Option<String> = sqlx::query_scalar("SELECT name FROM theatres WHERE id = $1")
        .bind(theatre_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(theatre_name) = theatre else {
        return Err(DeviceError::UnknownTheatre);
    };
    let id: DeviceId = sqlx::query_scalar(
        "INSERT INTO checkin_devices (theatre_id, name, token_hash, created_by_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(theatre_id)
    .bind(name)
    .bind(hash_token(&token))
    .bind(actor_id)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        &NewEntry::new(
            Some(actor_id),
            "device.create",
            "device",
            id,
            format!("{name} at {theatre_name}"),
        ),
        now,
    )
    .await?;
    tx.commit().await?;
    let device = Device {
        id,
        theatre_id,
        theatre_name,
        name: name.to_owned(),
        created_at: from_unix(now),
        revoked_at: None,
        last_seen_at: None,
    };
    Ok((device, token))
}

/// Revokes a device, audited. False when there is no such device or it was revoked already.
pub async fn revoke(
    db: &Db,
    actor_id: UserId,
    device_id: DeviceId,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.begin_write().await?;
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE checkin_devices SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
         RETURNING name",
    )
    .bind(now)
    .bind(device_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = name else {
        return Ok(false);
    };
    audit::record(
        &mut tx,
        &NewEntry::new(Some(actor_id), "device.revoke", "device", device_id, name),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The live device a bearer token belongs to. Revoked devices and
/// tokens of any other shape are None. Notes when the device was last seen (at most once a
/// minute, so scanning is not a write per request).
pub async fn authenticate(
    db: &Db,
    token: &str,
    now: OffsetDateTime,
) -> Result<Option<DeviceLogin>, sqlx::Error> {
    let Some(random) = token.strip_prefix(TOKEN_PREFIX) else {
        return Ok(None);
    };
    if !is_token_shaped(random, TOKEN_RANDOM) {
        return Ok(None);
    }
    let found: Option<(DeviceId, TheatreId, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, theatre_id, name, last_seen_at FROM checkin_devices \
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_token(token))
    .fetch_optional(db.reader())
    .await?;
    let Some((id, theatre_id, name, last_seen)) = found else {
        return Ok(None);
    };
    if last_seen.is_none_or(|at| unix(now) - at >= 60) {
        sqlx::query("UPDATE checkin_devices SET last_seen_at = $1 WHERE id = $2")
            .bind(unix(now))
            .bind(id)
            .execute(db.writer())
            .await?;
    }
    Ok(Some(DeviceLogin {
        id,
        theatre_id,
        name,
    }))
}

/// One device by id.
pub async fn find(db: &Db, device_id: DeviceId) -> Result<Option<Device>, sqlx::Error> {
    Ok(list_where(db, "WHERE d.id = $1", Some(device_id))
        .await?
        .pop())
}

/// Every device, live ones first, newest first.
pub async fn list(db: &Db) -> Result<Vec<Device>, sqlx::Error> {
    list_where(db, "", None).await
}

async fn list_where(
    db: &Db,
    condition: &'static str,
    id: Option<DeviceId>,
) -> Result<Vec<Device>, sqlx::Error> {
    let sql = format!(
        "SELECT d.id, d.theatre_id, t.name AS theatre_name, d.name, d.created_at, d.revoked_at, \
         d.last_seen_at \
         FROM checkin_devices d JOIN theatres t ON t.id = d.theatre_id {condition} \
         ORDER BY (d.revoked_at IS NULL) DESC, d.created_at DESC, d.id DESC LIMIT 500"
    );
    let mut query = sqlx::query_as::<_, Device>(sqlx::AssertSqlSafe(sql));
    if let Some(id) = id {
        query = query.bind(id);
    }
    query.fetch_all(db.reader()).await
}
