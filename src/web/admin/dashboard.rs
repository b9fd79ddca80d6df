//! `/admin`: today's and this week's sales (on the theatres' local days), occupancy of
//! upcoming showtimes, what needs a person, and revenue per day drawn as an inline SVG bar
//! chart (SVG attributes only: the CSP forbids inline styles).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::render;
use crate::domain::dashboard::{self, DayRevenue};
use crate::domain::pricing::format_rupees;
use crate::domain::roles::Role;
use crate::domain::showtimes::format_in_zone;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::auth::StaffUser;
use crate::web::page::Page;

/// One bar of the revenue chart, in SVG user units.
pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub width: i64,
    pub height: i64,
    pub label_x: i64,
    pub day: String,
    pub amount: String,
    pub bookings: i64,
}

pub const CHART_WIDTH: i64 = 700;
pub const CHART_HEIGHT: i64 = 240;
const PLOT_TOP: i64 = 10;
const PLOT_BOTTOM: i64 = 210;

/// Lays the days out as bars scaled to the best day.
pub fn bars(days: &[DayRevenue]) -> Vec<Bar> {
    let max = days
        .iter()
        .map(|d| d.revenue_paise)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = CHART_WIDTH / (days.len() as i64).max(1);
    let format = time::macros::format_description!("[day padding:none] [month repr:short]");
    days.iter()
        .enumerate()
        .map(|(i, d)| {
            let height = (d.revenue_paise * (PLOT_BOTTOM - PLOT_TOP)) / max;
            let x = i as i64 * slot + slot / 8;
            Bar {
                x,
                y: PLOT_BOTTOM - height,
                width: slot * 3 / 4,
                height,
                label_x: x + slot * 3 / 8,
                day: d.day.format(&format).unwrap_or_default(),
                amount: format_rupees(d.revenue_paise),
                bookings: d.bookings,
            }
        })
        .collect()
}

pub struct OccupancyRow {
    pub showtime_id: crate::domain::ids::ShowtimeId,
    pub starts: String,
    pub movie: String,
    pub place: String,
    pub booked: i64,
    pub sellable: i64,
    pub percent: i64,
    pub admitted: i64,
    pub sold: i64,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    page: Page,
    today_bookings: i64,
    today_revenue: String,
    week_bookings: i64,
    week_revenue: String,
    failed_emails: i64,
    open_incidents: i64,
    upcoming: Vec<OccupancyRow>,
    bars: Vec<Bar>,
    chart_total: String,
    chart_timezone: String,
    mixed_timezones: bool,
}

/// The start page of ushers and the box office: only what their role reaches.
#[derive(Template)]
#[template(path = "admin/staff_home.html")]
struct StaffHome {
    page: Page,
}

pub async fn show(
    StaffUser(me): StaffUser,
    State(state): State<AppState>,
    page: Page,
) -> AppResult<Response> {
    if !me.role.includes(Role::Manager) {
        return render(StaffHome { page });
    }
    let d = dashboard::load(&state.db, state.clock.now()).await?;
    let chart_total = format_rupees(d.revenue_by_day.iter().map(|r| r.revenue_paise).sum());
    render(DashboardPage {
        page,
        today_bookings: d.today.bookings,
        today_revenue: format_rupees(d.today.revenue_paise),
        week_bookings: d.week.bookings,
        week_revenue: format_rupees(d.week.revenue_paise),
        failed_emails: d.failed_emails,
        open_incidents: d.open_incidents,
        upcoming: d
            .upcoming
            .iter()
            .map(|o| OccupancyRow {
                showtime_id: o.showtime_id,
                starts: format_in_zone(o.starts_at, &o.timezone),
                movie: o.movie_title.clone(),
                place: format!("{} · {}", o.theatre_name, o.screen_name),
                booked: o.booked,
                sellable: o.sellable,
                percent: o.percent(),
                admitted: o.admitted,
                sold: o.sold,
            })
            .collect(),
        bars: bars(&d.revenue_by_day),
        chart_total,
        chart_timezone: d.chart_timezone,
        mixed_timezones: d.mixed_timezones,
    })
}
