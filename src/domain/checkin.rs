//! The door: admitting a ticket to the showtime a door is checking, exactly once.
//!
//! A ticket arrives as its signed token (the QR code) or its 8-character booking code
//! (typed). The rules are checked in order: the ticket must exist (and its signature
//! verify), be for this showtime, be confirmed, and the door must be open (from
//! `CheckinRules::opens_before` the start until the end). Admission itself is one
//! conditional write: `admissions` has a unique index over the booking's live admission, so
//! of any number of doors scanning one ticket at once, in any number of processes, exactly
//! one inserts; every other scan reads who did and answers "already admitted".
//!
//! An admission can be undone for a short while by whoever made it (or a manager), so a
//! mis-scan at a busy door can be put right; the row stays, marked undone, and the ticket
//! can be admitted again. Devices that worked offline sync their scans later
//! (`sync_scan`): each scan is recorded once by its client id, and a scan that lost to
//! another door's admission is kept as a conflict for staff to see.

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::CheckinRules;
use crate::db::decode::{MaybeUnixSeconds, UnixSeconds};
use crate::db::{Db, from_unix, unix};
use crate::domain::audit::{self, NewEntry};
use crate::domain::bookings::{self, Booking, Status};
use crate::domain::ids::{AdmissionId, BookingId, DeviceId, ShowtimeId, TheatreId, UserId};
use crate::domain::roles::Role;
use crate::domain::showtimes::{self, ShowtimeDetail};
use crate::domain::ticket_token::{self, TicketClaims};

/// Who is scanning: a staff member's session or a scanner device of one theatre.
#[derive(Debug, Clone)]
pub enum Scanner {
    Staff {
        user_id: UserId,
        name: String,
        role: Role,
    },
    Device {
        device_id: DeviceId,
        theatre_id: TheatreId,
        name: String,
    },
}

impl Scanner {
    /// The name an "already admitted" answer shows.
    pub fn name(&self) -> &str {
        match self {
            Scanner::Staff { name, .. } | Scanner::Device { name, .. } => name,
        }
    }

    /// Whether this scanner may work the doors of `theatre_id` (a device only its own).
    pub fn serves(&self, theatre_id: TheatreId) -> bool {
        match self {
            Scanner::Staff { .. } => true,
            Scanner::Device {
                theatre_id: own, ..
            } => *own == theatre_id,
        }
    }

    fn user_id(&self) -> Option<UserId> {
        match self {
            Scanner::Staff { user_id, .. } => Some(*user_id),
            Scanner::Device { .. } => None,
        }
    }

    fn device_id(&self) -> Option<DeviceId> {
        match self {
            Scanner::Device { device_id, .. } => Some(*device_id),
            Scanner::Staff { .. } => None,
        }
    }
}

/// Which showtime a door is admitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// One showtime.
    Showtime(ShowtimeId),
    /// Whatever starts at this theatre within the next hour (or has started and not ended):
    /// a foyer door that serves several screens.
    NextHour { theatre_id: TheatreId },
}

/// What the door was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// The signed token of the QR code (`MB1.…`).
    Token(String),
    /// The booking code, typed.
    Code(String),
}

/// The showtime facts a door needs to tell people where to go.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ShowtimeBrief {
    pub id: ShowtimeId,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub screen: String,
    #[serde(skip)]
    pub timezone: String,
    #[serde(skip)]
    pub movie_title: String,
}

impl From<&ShowtimeDetail> for ShowtimeBrief {
    fn from(s: &ShowtimeDetail) -> Self {
        Self {
            id: s.id,
            starts_at: s.starts_at,
            screen: s.screen_name.clone(),
            timezone: s.timezone.clone(),
            movie_title: s.movie_title.clone(),
        }
    }
}

/// The admitted booking, as the door shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AdmittedBooking {
    /// The booking's row and showtime, for recording a synced scan (not shown to doors).
    #[serde(skip)]
    pub row_id: BookingId,
    #[serde(skip)]
    pub showtime_id: ShowtimeId,
    pub id: String,
    pub code: String,
    pub movie_title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub starts_at: OffsetDateTime,
    pub screen: String,
    pub seats: Vec<String>,
}

impl From<&Booking> for AdmittedBooking {
    fn from(b: &Booking) -> Self {
        Self {
            row_id: b.id,
            showtime_id: b.showtime_id,
            id: b.public_id.to_string(),
            code: b.code.to_string(),
            movie_title: b.movie_title.clone(),
            starts_at: b.starts_at,
            screen: b.screen_name.clone(),
            seats: b.seats.iter().map(|s| s.label.clone()).collect(),
        }
    }
}

/// A successful scan: admitted now, or already admitted by someone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    Admitted {
        admission_id: AdmissionId,
        admitted_at: OffsetDateTime,
        booking: AdmittedBooking,
    },
    AlreadyAdmitted {
        admission_id: AdmissionId,
        admitted_at: OffsetDateTime,
        admitted_by: String,
        booking: AdmittedBooking,
    },
}

/// Why a ticket is not admitted.
#[derive(Debug, thiserror::Error)]
pub enum CheckinError {
    /// The door's showtime does not exist or is not this scanner's to check.
    #[error("That showtime does not exist.")]
    UnknownShowtime,
    #[error("This is not a valid ticket.")]
    InvalidTicket,
    #[error("This ticket is for another showtime.")]
    WrongShowtime(ShowtimeBrief),
    #[error("This ticket is {}.", .0.as_str())]
    NotValid(Status),
    #[error("The doors open {} minutes before the start.", .minutes)]
    TooEarly {
        opens_at: OffsetDateTime,
        minutes: i64,
    },
    #[error("This showtime is over.")]
    TooLate,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The ticket's booking, or `InvalidTicket`: a token must verify with one of `keys` and
/// name a booking that exists, for the showtime and seats it says; a code must exist.
async fn resolve(
    db: &Db,
    keys: &[ed25519_dalek::VerifyingKey],
    presented: &Presented,
) -> Result<Booking, CheckinError> {
    match presented {
        Presented::Token(token) => {
            let claims: TicketClaims = ticket_token::verify(token.trim(), keys)
                .map_err(|_| CheckinError::InvalidTicket)?;
            let public_id =
                bookings::PublicId::parse(&claims.b).ok_or(CheckinError::InvalidTicket)?;
            let booking = bookings::find_by_public_id(db, &public_id)
                .await?
                .ok_or(CheckinError::InvalidTicket)?;
            let seats: Vec<&str> = booking.seats.iter().map(|s| s.label.as_str()).collect();
            if booking.showtime_id != claims.s || seats != claims.seats {
                return Err(CheckinError::InvalidTicket);
            }
            Ok(booking)
        }
        Presented::Code(code) => bookings::find_by_code(
            db,
            &bookings::BookingCode::parse(code).ok_or(CheckinError::InvalidTicket)?,
        )
        .await?
        .ok_or(CheckinError::InvalidTicket),
    }
}

/// The rules a booking must meet to be admitted to `door` at `at`, in the order the door
/// reports them.
pub fn check(
    booking: &Booking,
    ticket_showtime: &ShowtimeDetail,
    door: &ShowtimeDetail,
    at: OffsetDateTime,
    rules: &CheckinRules,
) -> Result<(), CheckinError> {
    if booking.showtime_id != door.id {
        return Err(CheckinError::WrongShowtime(ShowtimeBrief::from(
            ticket_showtime,
        )));
    }
    match booking.status_at(at) {
        Status::Confirmed => {}
        other => return Err(CheckinError::NotValid(other)),
    }
    let opens_before = time::Duration::try_from(rules.opens_before).unwrap_or_default();
    let opens_at = door.starts_at - opens_before;
    if at < opens_at {
        return Err(CheckinError::TooEarly {
            opens_at,
            minutes: opens_before.whole_minutes(),
        });
    }
    if at > door.ends_at {
        return Err(CheckinError::TooLate);
    }
    Ok(())
}

/// The showtime a scanner checks, if it exists and the scanner serves its theatre.
pub async fn door_showtime(
    db: &Db,
    scanner: &Scanner,
    showtime_id: ShowtimeId,
) -> Result<ShowtimeDetail, CheckinError> {
    showtimes::find_showtime(db, showtime_id)
        .await?
        .filter(|s| scanner.serves(s.theatre_id))
        .ok_or(CheckinError::UnknownShowtime)
}

/// What every scan needs: the database, the door's rules and the keys that verify tickets.
#[derive(Clone, Copy)]
pub struct Door<'a> {
    pub db: &'a Db,
    pub rules: &'a CheckinRules,
    pub keys: &'a [ed25519_dalek::VerifyingKey],
}

impl Door<'_> {
    /// Admits what was presented to the door's selection, scanned at `at` (now, or earlier
    /// for a scan synced from an offline device).
    pub async fn admit(
        &self,
        scanner: &Scanner,
        presented: &Presented,
        selection: Selection,
        at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Scan, CheckinError> {
        admit(*self, scanner, presented, selection, at, now).await
    }

    /// See `sync_scan`.
    pub async fn sync(
        &self,
        scanner: &Scanner,
        scan: &OfflineScan,
        now: OffsetDateTime,
        answer: impl Fn(&Result<Scan, CheckinError>) -> String,
    ) -> Result<String, sqlx::Error> {
        sync_scan(*self, scanner, scan, now, answer).await
    }
}

/// How far ahead a "next hour" door looks.
pub const NEXT_HOUR: time::Duration = time::Duration::hours(1);

async fn admit(
    door: Door<'_>,
    scanner: &Scanner,
    presented: &Presented,
    selection: Selection,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Scan, CheckinError> {
    let Door { db, rules, keys } = door;
    let chosen = match selection {
        Selection::Showtime(id) => Some(door_showtime(db, scanner, id).await?),
        Selection::NextHour { theatre_id } if scanner.serves(theatre_id) => None,
        Selection::NextHour { .. } => return Err(CheckinError::UnknownShowtime),
    };
    let booking = resolve(db, keys, presented).await?;
    let ticket_showtime = match &chosen {
        Some(door) if door.id == booking.showtime_id => door.clone(),
        _ => showtimes::find_showtime(db, booking.showtime_id)
            .await?
            .ok_or(CheckinError::InvalidTicket)?,
    };
    let door = match (chosen, selection) {
        (Some(door), _) => door,
        // A foyer door admits to the ticket's own showtime when it is at this theatre and
        // starts within the hour (or is running); anything else is the wrong showtime.
        (None, Selection::NextHour { theatre_id })
            if ticket_showtime.theatre_id == theatre_id
                && ticket_showtime.starts_at <= at + NEXT_HOUR
                && ticket_showtime.ends_at >= at =>
        {
            ticket_showtime.clone()
        }
        (None, _) => {
            return Err(CheckinError::WrongShowtime(ShowtimeBrief::from(
                &ticket_showtime,
            )));
        }
    };
    check(&booking, &ticket_showtime, &door, at, rules)?;
    record(db, scanner, &booking, at, now).await
}

/// The conditional write of an admission; the unique index decides between racing doors.
async fn record(
    db: &Db,
    scanner: &Scanner,
    booking: &Booking,
    at: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<Scan, CheckinError> {
    let inserted: Option<AdmissionId> = sqlx::query_scalar(
        "INSERT INTO admissions (booking_id, showtime_id, admitted_at, recorded_at, by_user_id, \
         by_device_id, by_name) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(booking.id)
    .bind(booking.showtime_id)
    .bind(unix(at))
    .bind(unix(now))
    .bind(scanner.user_id())
    .bind(scanner.device_id())
    .bind(scanner.name())
    .fetch_optional(db.writer())
    .await?;
    if let Some(admission_id) = inserted {
        return Ok(Scan::Admitted {
            admission_id,
            admitted_at: at,
            booking: AdmittedBooking::from(booking),
        });
    }
    let existing = live_admission(db, booking.id)
        .await?
        // Undone between our insert and this read: the next scan admits.
        .ok_or(CheckinError::Database(sqlx::Error::RowNotFound))?;
    Ok(Scan::AlreadyAdmitted {
        admission_id: existing.id,
        admitted_at: existing.admitted_at,
        admitted_by: existing.by_name,
        booking: AdmittedBooking::from(booking),
    })
}

/// A booking's admission that has not been undone.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LiveAdmission {
    pub id: AdmissionId,
    #[sqlx(try_from = "UnixSeconds")]
    pub admitted_at: OffsetDateTime,
    pub by_name: String,
}

/// The live admission of a booking, if it was admitted.
pub async fn live_admission(
    db: &Db,
    booking_id: BookingId,
) -> Result<Option<LiveAdmission>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, admitted_at, by_name FROM admissions WHERE booking_id = $1 AND undone_at IS NULL",
    )
    .bind(booking_id)
    .fetch_optional(db.writer())
    .await
}

/// Why an undo was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UndoError {
    #[error("No such admission.")]
    NotFound,
    #[error("Only the person who admitted this ticket, or a manager, can undo it.")]
    NotYours,
    #[error(
        "This admission can no longer be undone (it was more than {minutes} minutes ago, or is already undone)."
    )]
    TooLate { minutes: i64 },
}

/// Undoes an admission within `rules.undo_window`, by whoever made it or a manager, with an
/// audit entry; the ticket can then be admitted again. One conditional UPDATE, so two
/// undos of one admission undo it once.
pub async fn undo(
    db: &Db,
    rules: &CheckinRules,
    scanner: &Scanner,
    admission_id: AdmissionId,
    now: OffsetDateTime,
) -> Result<(), UndoOutcome> {
    let row: Option<(Option<UserId>, Option<DeviceId>, BookingId)> =
        sqlx::query_as("SELECT by_user_id, by_device_id, booking_id FROM admissions WHERE id = $1")
            .bind(admission_id)
            .fetch_optional(db.reader())
            .await
            .map_err(UndoOutcome::Database)?;
    let Some((by_user, by_device, booking_id)) = row else {
        return Err(UndoOutcome::Refused(UndoError::NotFound));
    };
    let manager = matches!(scanner, Scanner::Staff { role, .. } if role.includes(Role::Manager));
    let own = match scanner {
        Scanner::Staff { user_id, .. } => by_user == Some(*user_id),
        Scanner::Device { device_id, .. } => by_device == Some(*device_id),
    };
    if !(own || manager) {
        return Err(UndoOutcome::Refused(UndoError::NotYours));
    }
    let window = i64::try_from(rules.undo_window.as_secs()).unwrap_or(i64::MAX);
    let mut tx = db.begin_write().await.map_err(UndoOutcome::Database)?;
    let undone = sqlx::query(
        "UPDATE admissions SET undone_at = $1, undone_by_user_id = $2 \
         WHERE id = $3 AND undone_at IS NULL AND recorded_at >= $4",
    )
    .bind(unix(now))
    .bind(scanner.user_id())
    .bind(admission_id)
    .bind(unix(now).saturating_sub(window))
    .execute(&mut *tx)
    .await
    .map_err(UndoOutcome::Database)?;
    if undone.rows_affected() != 1 {
        return Err(UndoOutcome::Refused(UndoError::TooLate {
            minutes: window / 60,
        }));
    }
    audit::record(
        &mut tx,
        &NewEntry::new(
            scanner.user_id(),
            "checkin.undo",
            "booking",
            booking_id,
            format!("admission {admission_id} undone by {}", scanner.name()),
        ),
        unix(now),
    )
    .await
    .map_err(UndoOutcome::Database)?;
    tx.commit().await.map_err(UndoOutcome::Database)?;
    Ok(())
}

/// An undo that did not happen: refused by a rule, or the database failed.
#[derive(Debug, thiserror::Error)]
pub enum UndoOutcome {
    #[error(transparent)]
    Refused(UndoError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

/// One ticket of a showtime, for scanners that keep admitting while offline.
#[derive(Debug, Clone, Serialize)]
pub struct TicketRow {
    pub booking_id: String,
    pub code: String,
    pub seats: Vec<String>,
    pub status: Status,
    #[serde(with = "time::serde::rfc3339::option")]
    pub admitted_at: Option<OffsetDateTime>,
}

/// Every ticket sold for a showtime (confirmed, refunded or cancelled after payment), with
/// its admission; two queries whatever the size.
pub async fn tickets_of(db: &Db, showtime_id: ShowtimeId) -> Result<Vec<TicketRow>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Sold {
        id: BookingId,
        public_id: String,
        code: String,
        status: String,
        #[sqlx(try_from = "MaybeUnixSeconds")]
        admitted_at: Option<OffsetDateTime>,
    }
    let bookings: Vec<Sold> = sqlx::query_as(
        "SELECT b.id, b.public_id, b.code, b.status, a.admitted_at FROM bookings b \
         LEFT JOIN admissions a ON a.booking_id = b.id AND a.undone_at IS NULL \
         WHERE b.showtime_id = $1 AND b.status IN ('confirmed', 'refunded') ORDER BY b.id",
    )
    .bind(showtime_id)
    .fetch_all(db.reader())
    .await?;
    let seats: Vec<(BookingId, String)> = sqlx::query_as(
        "SELECT bs.booking_id, bs.label FROM booking_seats bs \
         JOIN bookings b ON b.id = bs.booking_id \
         WHERE b.showtime_id = $1 AND b.status IN ('confirmed', 'refunded') \
         ORDER BY bs.booking_id, bs.seat_id",
    )
    .bind(showtime_id)
    .fetch_all(db.reader())
    .await?;
    bookings
        .into_iter()
        .map(|sold| {
            let Sold {
                id,
                public_id,
                code,
                status,
                admitted_at,
            } = sold;
            Ok(TicketRow {
                booking_id: public_id,
                code,
                seats: seats
                    .iter()
                    .filter(|(booking, _)| *booking == id)
                    .map(|(_, label)| label.clone())
                    .collect(),
                status: Status::parse(&status).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown booking status {status:?}").into())
                })?,
                admitted_at,
            })
        })
        .collect()
}

/// How many of a showtime's confirmed bookings are admitted: (admitted, sold).
pub async fn door_count(db: &Db, showtime_id: ShowtimeId) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT CAST(COUNT(a.id) AS BIGINT), CAST(COUNT(b.id) AS BIGINT) FROM bookings b \
         LEFT JOIN admissions a ON a.booking_id = b.id AND a.undone_at IS NULL \
         WHERE b.showtime_id = $1 AND b.status = 'confirmed'",
    )
    .bind(showtime_id)
    .fetch_one(db.reader())
    .await
}

/// Whether a booking has been admitted (and not undone), read inside the caller's
/// transaction (a moviegoer's cancellation checks it where it changes the booking).
pub async fn is_admitted_in(
    conn: &mut sqlx::AnyConnection,
    booking_id: BookingId,
) -> Result<bool, sqlx::Error> {
    let admitted: Option<AdmissionId> =
        sqlx::query_scalar("SELECT id FROM admissions WHERE booking_id = $1 AND undone_at IS NULL")
            .bind(booking_id)
            .fetch_optional(conn)
            .await?;
    Ok(admitted.is_some())
}

/// A scan recorded offline by a device, as it is synced.
#[derive(Debug, Clone)]
pub struct OfflineScan {
    pub client_id: String,
    pub presented: Presented,
    pub selection: Selection,
    pub scanned_at: OffsetDateTime,
}

/// The longest client id a device may use for a scan.
pub const CLIENT_ID_MAX: usize = 64;

/// Records one offline scan (`Door::sync`): the first time its client id is seen, it is admitted like any
/// scan (as of when it was scanned) and its answer stored; a replay returns the stored
/// answer without admitting again. `answer` turns an outcome into what the device is told
/// (JSON text), so the replay is byte for byte the same. A scan that found the ticket
/// already admitted by another door is a conflict, listed for staff.
async fn sync_scan(
    door: Door<'_>,
    scanner: &Scanner,
    scan: &OfflineScan,
    now: OffsetDateTime,
    answer: impl Fn(&Result<Scan, CheckinError>) -> String,
) -> Result<String, sqlx::Error> {
    let db = door.db;
    if let Some(stored) = stored_answer(db, &scan.client_id).await? {
        return Ok(stored);
    }
    let outcome = admit(
        door,
        scanner,
        &scan.presented,
        scan.selection,
        scan.scanned_at,
        now,
    )
    .await;
    if let Err(CheckinError::Database(error)) = outcome {
        return Err(error);
    }
    let text = answer(&outcome);
    let booked = match &outcome {
        Ok(Scan::Admitted { booking, .. } | Scan::AlreadyAdmitted { booking, .. }) => {
            Some((booking.row_id, booking.showtime_id))
        }
        Err(_) => None,
    };
    let showtime_id = match (scan.selection, booked) {
        (_, Some((_, showtime_id))) => Some(showtime_id),
        (Selection::Showtime(id), None) => Some(id),
        (Selection::NextHour { .. }, None) => None,
    };
    let booking_id = booked.map(|(id, _)| id);
    let conflict = matches!(outcome, Ok(Scan::AlreadyAdmitted { .. }));
    // The client id is the key: of two syncs of one scan racing, one row is stored and
    // both answer with it.
    sqlx::query(
        "INSERT INTO checkin_scans (client_id, showtime_id, booking_id, by_device_id, by_name, \
         scanned_at, result, conflict, created_at) \
         VALUES ($1, (SELECT id FROM showtimes WHERE id = $2), $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (client_id) DO NOTHING",
    )
    .bind(&scan.client_id)
    .bind(showtime_id)
    .bind(booking_id)
    .bind(scanner.device_id())
    .bind(scanner.name())
    .bind(unix(scan.scanned_at))
    .bind(&text)
    .bind(i64::from(conflict))
    .bind(unix(now))
    .execute(db.writer())
    .await?;
    Ok(stored_answer(db, &scan.client_id).await?.unwrap_or(text))
}

async fn stored_answer(db: &Db, client_id: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT result FROM checkin_scans WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(db.writer())
        .await
}

/// A synced scan that lost to another door's admission.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub code: String,
    pub seats: String,
    pub scanned_at: OffsetDateTime,
    pub scanned_by: String,
    pub admitted_at: Option<OffsetDateTime>,
    pub admitted_by: Option<String>,
}

/// The conflicts of a showtime's door, newest first.
pub async fn conflicts_of(db: &Db, showtime_id: ShowtimeId) -> Result<Vec<Conflict>, sqlx::Error> {
    type Row = (String, i64, String, Option<i64>, Option<String>, BookingId);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT b.code, c.scanned_at, c.by_name, a.admitted_at, a.by_name, b.id \
         FROM checkin_scans c JOIN bookings b ON b.id = c.booking_id \
         LEFT JOIN admissions a ON a.booking_id = b.id AND a.undone_at IS NULL \
         WHERE c.showtime_id = $1 AND c.conflict = 1 ORDER BY c.scanned_at DESC LIMIT 100",
    )
    .bind(showtime_id)
    .fetch_all(db.reader())
    .await?;
    let seats: Vec<(BookingId, String)> = sqlx::query_as(
        "SELECT bs.booking_id, bs.label FROM booking_seats bs JOIN checkin_scans c \
         ON c.booking_id = bs.booking_id WHERE c.showtime_id = $1 AND c.conflict = 1 \
         ORDER BY bs.seat_id",
    )
    .bind(showtime_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(code, scanned_at, scanned_by, admitted_at, admitted_by, booking_id)| {
                let mut labels: Vec<&str> = seats
                    .iter()
                    .filter(|(b, _)| *b == booking_id)
                    .map(|(_, l)| l.as_str())
                    .collect();
                labels.dedup();
                Conflict {
                    code,
                    seats: labels.join(", "),
                    scanned_at: from_unix(scanned_at),
                    scanned_by,
                    admitted_at: admitted_at.map(from_unix),
                    admitted_by,
                }
            },
        )
        .collect())
}

/// A showtime as the door's picker lists it, with its admitted / sold count.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoorShowtime {
    pub id: ShowtimeId,
    pub movie_title: String,
    pub screen: String,
    pub timezone: String,
    #[sqlx(try_from = "UnixSeconds")]
    pub starts_at: OffsetDateTime,
    pub admitted: i64,
    pub sold: i64,
}

/// The showtimes of a theatre that have not ended and start within `ahead` of `now`,
/// soonest first, with admitted / sold counts; one query.
pub async fn door_showtimes(
    db: &Db,
    theatre_id: TheatreId,
    now: OffsetDateTime,
    ahead: time::Duration,
) -> Result<Vec<DoorShowtime>, sqlx::Error> {
    sqlx::query_as(
        "SELECT st.id, m.title AS movie_title, sc.name AS screen, t.timezone, st.starts_at, \
         CAST(COUNT(a.id) AS BIGINT) AS admitted, CAST(COUNT(b.id) AS BIGINT) AS sold \
         FROM showtimes st JOIN screens sc ON sc.id = st.screen_id \
         JOIN theatres t ON t.id = sc.theatre_id JOIN movies m ON m.id = st.movie_id \
         LEFT JOIN bookings b ON b.showtime_id = st.id AND b.status = 'confirmed' \
         LEFT JOIN admissions a ON a.booking_id = b.id AND a.undone_at IS NULL \
         WHERE sc.theatre_id = $1 AND st.is_cancelled = 0 AND st.ends_at > $2 AND st.starts_at < $3 \
         GROUP BY st.id, m.title, sc.name, t.timezone, st.starts_at ORDER BY st.starts_at, st.id",
    )
    .bind(theatre_id)
    .bind(unix(now))
    .bind(unix(now + ahead))
    .fetch_all(db.reader())
    .await
}
