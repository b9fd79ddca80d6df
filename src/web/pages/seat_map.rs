//! The seat map of a showtime and the hold it submits.
//!
//! Without JavaScript the map is a form of checkboxes; `static/js/seatmap.js` adds the live
//! total and refreshes seats taken by others.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};

use crate::domain::bookings::{self, HoldError, MapSeat, SeatStatus};
use crate::domain::ids::{SeatId, ShowtimeId};
use crate::domain::pricing::format_rupees;
use crate::domain::screens::SeatKind;
use crate::domain::showtimes::{self, ShowtimeDetail};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::auth::MaybeUser;
use crate::web::extract::IdPath;
use crate::web::page::Page;
use crate::web::rate_limit::{self, ClientIp};

/// One cell of a row on the map: a seat or an aisle.
pub enum Cell {
    Gap,
    Seat(SeatView),
}

pub struct SeatView {
    pub id: SeatId,
    pub number: i64,
    pub classes: String,
    pub accessible_name: String,
    pub price_paise: i64,
    pub selectable: bool,
    pub checked: bool,
}

pub struct RowView {
    pub label: String,
    pub cells: Vec<Cell>,
}

pub struct LegendCategory {
    pub name: String,
    pub class: String,
    pub price: String,
}

#[derive(Template)]
#[template(path = "booking/seat_map.html")]
struct SeatMapPage {
    page: Page,
    showtime: ShowtimeDetail,
    local_start: String,
    rows: Vec<RowView>,
    legend: Vec<LegendCategory>,
    has_wheelchair: bool,
    max_seats: u32,
    error: Option<String>,
    bookable: Option<String>,
    fee_note: String,
}

/// The CSS class of a category, by its rank among the screen's categories.
fn category_class(rank: i64) -> String {
    format!("cat-{}", rank.clamp(0, 2))
}

fn build_rows(seats: &[MapSeat], selected: &[SeatId]) -> Vec<RowView> {
    let mut rows: Vec<RowView> = Vec::new();
    let mut current_row: Option<i64> = None;
    let mut next_column = 0;
    for seat in seats {
        if current_row != Some(seat.row_index) {
            rows.push(RowView {
                label: seat.row.clone(),
                cells: Vec::new(),
            });
            current_row = Some(seat.row_index);
            next_column = 0;
        }
        let Some(row) = rows.last_mut() else { continue };
        while next_column < seat.column {
            row.cells.push(Cell::Gap);
            next_column += 1;
        }
        next_column = seat.column + 1;
        let price = seat.price_paise.unwrap_or(0);
        let status_word = match (seat.status, seat.mine) {
            (_, true) => "held by you",
            (SeatStatus::Available, _) => "available",
            (SeatStatus::Held, _) => "held by someone else",
            (SeatStatus::Booked, _) => "booked",
            (SeatStatus::Unavailable, _) => "not available",
        };
        let kind_word = match seat.kind {
            SeatKind::Wheelchair => ", wheelchair space",
            SeatKind::Companion => ", companion seat",
            SeatKind::Standard | SeatKind::Blocked => "",
        };
        let mut classes = format!(
            "seat seat-{} {}",
            seat.status.as_str(),
            category_class(seat.category_rank)
        );
        if seat.kind == SeatKind::Wheelchair {
            classes.push_str(" seat-wheelchair");
        }
        let selectable = seat.status == SeatStatus::Available;
        row.cells.push(Cell::Seat(SeatView {
            id: seat.id,
            number: seat.number,
            classes,
            accessible_name: format!(
                "Row {} seat {}, {}, {}{kind_word}, {status_word}",
                seat.row,
                seat.number,
                seat.category,
                format_rupees(price)
            ),
            price_paise: price,
            selectable,
            checked: selectable && (seat.mine || selected.contains(&seat.id)),
        }));
    }
    rows
}

fn build_legend(seats: &[MapSeat]) -> Vec<LegendCategory> {
    let mut legend: Vec<(i64, LegendCategory)> = Vec::new();
    for seat in seats {
        let Some(price) = seat.price_paise else {
            continue;
        };
        if !legend.iter().any(|(_, c)| c.name == seat.category) {
            legend.push((
                seat.category_rank,
                LegendCategory {
                    name: seat.category.clone(),
                    class: category_class(seat.category_rank),
                    price: format_rupees(price),
                },
            ));
        }
    }
    legend.sort_by_key(|(rank, _)| *rank);
    legend.into_iter().map(|(_, c)| c).collect()
}

async fn render(
    state: &AppState,
    page: Page,
    showtime: ShowtimeDetail,
    selected: &[SeatId],
    error: Option<String>,
) -> AppResult<Html<String>> {
    let now = state.clock.now();
    let viewer_booking = match &page.user {
        Some(user) => bookings::pending_for(&state.db, user.id, showtime.id).await?,
        None => None,
    };
    let seats = bookings::seat_map(&state.db, &showtime, now, viewer_booking).await?;
    let rules = &state.config.booking;
    let bookable = bookings::check_bookable(&showtime, rules, now)
        .err()
        .map(|e| e.to_string());
    let template = SeatMapPage {
        local_start: showtimes::format_in_zone(showtime.starts_at, &showtime.timezone),
        rows: build_rows(&seats, selected),
        legend: build_legend(&seats),
        has_wheelchair: seats.iter().any(|s| s.kind == SeatKind::Wheelchair),
        max_seats: rules.max_seats_per_booking,
        fee_note: format!(
            "Plus a convenience fee of {} per ticket and {}% GST on the fee.",
            format_rupees(rules.convenience_fee_paise),
            rules.fee_gst_percent
        ),
        showtime,
        page,
        error,
        bookable,
    };
    Ok(Html(template.render()?))
}

/// `GET /showtimes/{id}/seats`.
pub async fn show(
    State(state): State<AppState>,
    IdPath(showtime_id): IdPath<ShowtimeId>,
    page: Page,
) -> AppResult<Html<String>> {
    let showtime = showtimes::find_showtime(&state.db, showtime_id)
        .await?
        .ok_or(AppError::NotFound)?;
    render(&state, page, showtime, &[], None).await
}

/// The seat ids of a submitted seat-map form (`seat_ids` repeated once per checkbox).
pub fn parse_seat_ids(body: &[u8]) -> Result<Vec<SeatId>, AppError> {
    form_urlencoded::parse(body)
        .filter(|(k, _)| k == "seat_ids")
        .map(|(_, v)| {
            v.trim()
                .parse::<i64>()
                .map(SeatId)
                .map_err(|_| AppError::bad_request("The seat selection could not be read."))
        })
        .collect()
}

/// `POST /showtimes/{id}/hold`: holds the chosen seats and goes to checkout; on a problem the
/// seat map comes back with the message and the selection kept.
pub async fn hold(
    State(state): State<AppState>,
    IdPath(showtime_id): IdPath<ShowtimeId>,
    MaybeUser(user): MaybeUser,
    ClientIp(ip): ClientIp,
    page: Page,
    body: Bytes,
) -> AppResult<Response> {
    let Some(user) = user else {
        let next = format!("/showtimes/{showtime_id}/seats");
        return Ok(Redirect::to(&format!(
            "/accounts/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ))
        .into_response());
    };
    state
        .limiter
        .check(rate_limit::Limit::Hold, &format!("user:{}", user.id))?;
    state.limiter.check(rate_limit::Limit::HoldPerIp, &ip)?;
    let seat_ids = parse_seat_ids(&body)?;
    let now = state.clock.now();
    let hold = bookings::hold(
        &state.db,
        &state.config.booking,
        now,
        user.id,
        showtime_id,
        &seat_ids,
    );
    match hold.await {
        Ok(booking) => {
            Ok(Redirect::to(&format!("/bookings/{}/checkout", booking.public_id)).into_response())
        }
        Err(HoldError::ShowtimeNotFound) => Err(AppError::NotFound),
        Err(HoldError::Database(error)) => Err(error.into()),
        Err(problem) => {
            let showtime = showtimes::find_showtime(&state.db, showtime_id)
                .await?
                .ok_or(AppError::NotFound)?;
            let taken = problem.taken_seats();
            let keep: Vec<SeatId> = seat_ids
                .iter()
                .copied()
                .filter(|id| !taken.contains(id))
                .collect();
            let message = problem.to_string();
            // The status comes from the one mapping of hold errors to HTTP.
            let status = AppError::from(problem).status();
            let html = render(&state, page, showtime, &keep, Some(message)).await?;
            Ok((status, html).into_response())
        }
    }
}
