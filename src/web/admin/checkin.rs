//! `/admin/checkin`: the door page, made for a phone held in one hand, and the scanner
//! devices managers hand out.
//!
//! The door page works without JavaScript: pick a theatre and one of its showtimes (or
//! "everything starting in the next hour"), type a booking code, and the answer is a page
//! that fills the screen (green: admit; red: already admitted; amber: wrong showtime or a
//! ticket that is not valid). With JavaScript (`static/js/door.js`) the same page scans QR
//! codes with the camera and talks to the check-in API. Both call the same domain code.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use super::{ConfirmPage, confirmed, render, see_other, utc};
use crate::domain::checkin::{
    self, CheckinError, Conflict, DoorShowtime, NEXT_HOUR, Presented, Scan, Scanner, Selection,
};
use crate::domain::ids::{AdmissionId, DeviceId, ShowtimeId, TheatreId};
use crate::domain::showtimes::{self, format_in_zone};
use crate::domain::{checkin_devices, venue_admin};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::api::checkin::{undo_error, with_door};
use crate::web::auth::StaffUser;
use crate::web::extract::IdPath;
use crate::web::page::{Level, Page, flash};

/// How far ahead the showtime picker looks.
const PICKER_AHEAD: time::Duration = time::Duration::hours(18);

/// The door of a staff member.
fn scanner(user: &crate::domain::users::User) -> Scanner {
    Scanner::Staff {
        user_id: user.id,
        name: user.name.clone(),
        role: user.role,
    }
}

/// `?theatre=ID&showtime=ID|next`.
#[derive(Debug, Deserialize, Default)]
pub struct DoorQuery {
    #[serde(default)]
    theatre: Option<String>,
    #[serde(default)]
    showtime: Option<String>,
}

/// What a door is set to, parsed from the query or form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DoorChoice {
    Nothing,
    Theatre(TheatreId),
    Showtime(ShowtimeId),
    NextHour(TheatreId),
}

impl DoorChoice {
    fn parse(theatre: Option<&str>, showtime: Option<&str>) -> Self {
        // Any integer is taken as an id (one that does not exist shows nothing).
        let theatre = theatre.and_then(|t| t.trim().parse::<i64>().ok().map(TheatreId));
        let showtime = showtime.map(str::trim);
        let showtime_id = showtime.and_then(|s| s.parse::<i64>().ok().map(ShowtimeId));
        match (theatre, showtime, showtime_id) {
            (Some(theatre), Some("next"), _) => Self::NextHour(theatre),
            (_, _, Some(id)) => Self::Showtime(id),
            (Some(theatre), _, None) => Self::Theatre(theatre),
            (None, _, None) => Self::Nothing,
        }
    }

    fn selection(self) -> Option<Selection> {
        match self {
            Self::Showtime(id) => Some(Selection::Showtime(id)),
            Self::NextHour(theatre_id) => Some(Selection::NextHour { theatre_id }),
            _ => None,
        }
    }
}

/// The big answer of a scan.
pub struct DoorResult {
    /// `ok` (green), `bad` (red) or `warn` (amber): a CSS class.
    pub tone: &'static str,
    pub headline: String,
    pub detail: String,
    /// The admission this answer created, for its Undo button.
    pub undo: Option<AdmissionId>,
}

fn result_of(outcome: &Result<Scan, CheckinError>, timezone: &str) -> DoorResult {
    match outcome {
        Ok(Scan::Admitted {
            admission_id,
            booking,
            ..
        }) => DoorResult {
            tone: "ok",
            headline: format!(
                "Admit {} — {}",
                booking.seats.len(),
                booking.seats.join(", ")
            ),
            detail: format!(
                "{} · {} · {}",
                booking.code, booking.movie_title, booking.screen
            ),
            undo: Some(*admission_id),
        },
        Ok(Scan::AlreadyAdmitted {
            admitted_at,
            admitted_by,
            booking,
            ..
        }) => DoorResult {
            tone: "bad",
            headline: format!(
                "Already admitted {} by {admitted_by}",
                local_clock(*admitted_at, timezone)
            ),
            detail: format!("{} · seats {}", booking.code, booking.seats.join(", ")),
            undo: None,
        },
        Err(CheckinError::WrongShowtime(showtime)) => DoorResult {
            tone: "warn",
            headline: format!(
                "Wrong showtime: this ticket is for {}, {}",
                local_clock(showtime.starts_at, &showtime.timezone),
                showtime.screen
            ),
            detail: format!(
                "{} on {}",
                showtime.movie_title,
                format_in_zone(showtime.starts_at, &showtime.timezone)
            ),
            undo: None,
        },
        Err(CheckinError::InvalidTicket) => DoorResult {
            tone: "bad",
            headline: "Not a valid ticket".into(),
            detail: "Check the code, or ask for the booking confirmation.".into(),
            undo: None,
        },
        Err(error) => DoorResult {
            tone: "warn",
            headline: error.to_string(),
            detail: String::new(),
            undo: None,
        },
    }
}

/// `6:02 PM` in the theatre's time.
fn local_clock(at: time::OffsetDateTime, timezone: &str) -> String {
    let local = showtimes::local_time(at, timezone);
    let format = time::macros::format_description!(
        "[hour repr:12 padding:none]:[minute] [period case:upper]"
    );
    local.format(&format).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "admin/door.html")]
struct DoorPage {
    page: Page,
    theatres: Vec<(TheatreId, String)>,
    theatre_id: Option<TheatreId>,
    showtimes: Vec<DoorShowtime>,
    /// The showtime being admitted (None in "next hour" mode).
    current: Option<DoorShowtime>,
    next_hour: bool,
    /// `showtime` as the forms send it back: an id or `next`.
    showtime_value: String,
    result: Option<DoorResult>,
    code: String,
    conflicts: Vec<Conflict>,
}

impl DoorPage {
    fn when(&self, s: &DoorShowtime) -> String {
        local_clock(s.starts_at, &s.timezone)
    }

    fn conflict_time(&self, at: &time::OffsetDateTime) -> String {
        utc(at)
    }
}

async fn door_page(
    state: &AppState,
    page: Page,
    choice: DoorChoice,
    result: Option<DoorResult>,
    code: String,
) -> AppResult<DoorPage> {
    let now = state.clock.now();
    let theatres = venue_admin::theatre_choices(&state.db).await?;
    let (theatre_id, current) = match choice {
        DoorChoice::Showtime(id) => {
            let showtime = showtimes::find_showtime(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?;
            let (admitted, sold) = checkin::door_count(&state.db, id).await?;
            let current = DoorShowtime {
                id,
                movie_title: showtime.movie_title.clone(),
                screen: showtime.screen_name.clone(),
                timezone: showtime.timezone.clone(),
                starts_at: showtime.starts_at,
                admitted,
                sold,
            };
            (Some(showtime.theatre_id), Some(current))
        }
        DoorChoice::Theatre(id) | DoorChoice::NextHour(id) => (Some(id), None),
        DoorChoice::Nothing => (None, None),
    };
    let showtimes = match theatre_id {
        Some(theatre) => checkin::door_showtimes(&state.db, theatre, now, PICKER_AHEAD).await?,
        None => Vec::new(),
    };
    let conflicts = match &current {
        Some(s) => checkin::conflicts_of(&state.db, s.id).await?,
        None => Vec::new(),
    };
    let next_hour = matches!(choice, DoorChoice::NextHour(_));
    Ok(DoorPage {
        page,
        theatres,
        theatre_id,
        showtime_value: match (&current, next_hour) {
            (Some(s), _) => s.id.to_string(),
            (None, true) => "next".into(),
            (None, false) => String::new(),
        },
        showtimes,
        current,
        next_hour,
        result,
        code,
        conflicts,
    })
}

/// The door page may use the camera (every other page is denied it).
fn with_camera(status: StatusCode, html: String) -> Response {
    let mut response = (status, axum::response::Html(html)).into_response();
    response.headers_mut().insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=(), payment=()"),
    );
    response
}

/// `GET /admin/checkin`.
pub async fn show(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Query(query): Query<DoorQuery>,
) -> AppResult<Response> {
    let choice = DoorChoice::parse(query.theatre.as_deref(), query.showtime.as_deref());
    let door = door_page(&state, page, choice, None, String::new()).await?;
    Ok(with_camera(StatusCode::OK, door.render()?))
}

#[derive(Debug, Deserialize)]
pub struct AdmitForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    theatre: Option<String>,
    #[serde(default)]
    showtime: Option<String>,
}

/// `POST /admin/checkin`: a typed code (or a pasted token), without JavaScript.
pub async fn admit(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<AdmitForm>,
) -> AppResult<Response> {
    let choice = DoorChoice::parse(form.theatre.as_deref(), form.showtime.as_deref());
    let Some(selection) = choice.selection() else {
        return Err(AppError::bad_request(
            "Choose the showtime this door admits.",
        ));
    };
    let typed = form.code.trim().to_owned();
    let presented = if typed.starts_with(crate::domain::ticket_token::PREFIX) {
        Presented::Token(typed.clone())
    } else {
        Presented::Code(typed.clone())
    };
    let now = state.clock.now();
    let scanner = scanner(&me);
    let outcome = with_door(&state, async |door| {
        door.admit(&scanner, &presented, selection, now, now).await
    })
    .await?;
    let status = match &outcome {
        Ok(Scan::Admitted { .. }) => StatusCode::OK,
        Ok(Scan::AlreadyAdmitted { .. }) => StatusCode::CONFLICT,
        Err(CheckinError::UnknownShowtime) => return Err(AppError::NotFound),
        Err(CheckinError::Database(_)) => {
            return Err(AppError::Unavailable(
                "The service is busy or briefly unavailable. Please try again in a moment.".into(),
            ));
        }
        Err(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let door = door_page(&state, page, choice, None, String::new()).await?;
    let timezone = door
        .current
        .as_ref()
        .map(|s| s.timezone.clone())
        .unwrap_or_else(|| "Asia/Kolkata".into());
    let result = result_of(&outcome, &timezone);
    // The code is kept only when it was refused, so the usher can correct a typo.
    let code = if status == StatusCode::OK {
        String::new()
    } else {
        typed
    };
    let door = DoorPage {
        result: Some(result),
        code,
        ..door
    };
    Ok(with_camera(status, door.render()?))
}

#[derive(Debug, Deserialize)]
pub struct UndoForm {
    #[serde(default)]
    theatre: Option<String>,
    #[serde(default)]
    showtime: Option<String>,
}

/// `POST /admin/checkin/admissions/{id}/undo`.
pub async fn undo(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath<AdmissionId>,
    Form(form): Form<UndoForm>,
) -> AppResult<Response> {
    let back = match DoorChoice::parse(form.theatre.as_deref(), form.showtime.as_deref()) {
        DoorChoice::Showtime(s) => format!("/admin/checkin?showtime={s}"),
        DoorChoice::NextHour(t) => format!("/admin/checkin?theatre={t}&showtime=next"),
        DoorChoice::Theatre(t) => format!("/admin/checkin?theatre={t}"),
        DoorChoice::Nothing => "/admin/checkin".into(),
    };
    match checkin::undo(
        &state.db,
        &state.config.checkin,
        &scanner(&me),
        id,
        state.clock.now(),
    )
    .await
    {
        Ok(()) => {
            flash(
                &session,
                Level::Success,
                "Admission undone: the ticket can be scanned again.",
            )
            .await
        }
        Err(outcome) => match undo_error(outcome) {
            AppError::Forbidden(message) | AppError::Unprocessable { message, .. } => {
                flash(&session, Level::Error, message).await
            }
            other => return Err(other),
        },
    }
    Ok(see_other(&back))
}

// ---------------------------------------------------------------------------------------
// Scanner devices (managers)

#[derive(Template)]
#[template(path = "admin/devices.html")]
struct DevicesPage {
    page: Page,
    devices: Vec<checkin_devices::Device>,
    theatres: Vec<(TheatreId, String)>,
    name: String,
    theatre_id: Option<TheatreId>,
    error: Option<String>,
    /// The token of the device just created: shown this once.
    created: Option<(String, String)>,
}

impl DevicesPage {
    fn when(&self, at: &time::OffsetDateTime) -> String {
        utc(at)
    }
}

async fn devices_page(state: &AppState, page: Page) -> AppResult<DevicesPage> {
    Ok(DevicesPage {
        page,
        devices: checkin_devices::list(&state.db).await?,
        theatres: venue_admin::theatre_choices(&state.db).await?,
        name: String::new(),
        theatre_id: None,
        error: None,
        created: None,
    })
}

/// `GET /admin/checkin/devices`.
pub async fn devices(
    StaffUser(_): StaffUser,
    State(state): State<AppState>,
    page: Page,
) -> AppResult<Response> {
    render(devices_page(&state, page).await?)
}

#[derive(Debug, Deserialize)]
pub struct DeviceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    theatre_id: String,
}

/// `POST /admin/checkin/devices`: creates a device and shows its token once.
pub async fn create_device(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<DeviceForm>,
) -> AppResult<Response> {
    let theatre_id = form.theatre_id.trim().parse::<TheatreId>().ok();
    let outcome = match theatre_id {
        Some(theatre) => {
            checkin_devices::create(
                &state.db,
                me.id,
                theatre,
                &form.name,
                state.clock.unix_now(),
            )
            .await
        }
        None => Err(checkin_devices::DeviceError::UnknownTheatre),
    };
    // Listed after the create, so the new device is in the table.
    let mut view = devices_page(&state, page).await?;
    match outcome {
        Ok((device, token)) => {
            view.created = Some((device.name, token));
            let mut response = render(view)?;
            // The token must not linger in any cache.
            response
                .headers_mut()
                .insert("cache-control", HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Err(checkin_devices::DeviceError::Database(error)) => Err(error.into()),
        Err(refusal) => {
            view.name = form.name;
            view.theatre_id = theatre_id;
            view.error = Some(refusal.to_string());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(view)?).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    confirm: Option<String>,
}

/// `POST /admin/checkin/devices/{id}/revoke`, confirmed first.
pub async fn revoke_device(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    session: Session,
    page: Page,
    IdPath(id): IdPath<DeviceId>,
    Form(form): Form<RevokeForm>,
) -> AppResult<Response> {
    let device = checkin_devices::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !confirmed(&form.confirm) {
        return render(ConfirmPage {
            page,
            title: format!("Revoke {}?", device.name),
            message: format!(
                "The device at {} stops admitting tickets at once; it needs a new token to work again.",
                device.theatre_name
            ),
            action: format!("/admin/checkin/devices/{id}/revoke"),
            fields: Vec::new(),
            button: format!("Revoke {}", device.name),
            cancel: "/admin/checkin/devices".into(),
        });
    }
    if checkin_devices::revoke(&state.db, me.id, id, state.clock.unix_now()).await? {
        flash(
            &session,
            Level::Success,
            format!("{} is revoked.", device.name),
        )
        .await;
    } else {
        flash(
            &session,
            Level::Info,
            format!("{} was already revoked.", device.name),
        )
        .await;
    }
    Ok(see_other("/admin/checkin/devices"))
}

/// How far the "next hour" door looks, for the template.
pub fn next_hour_minutes() -> i64 {
    NEXT_HOUR.whole_minutes()
}
