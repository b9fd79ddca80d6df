//! The emails of a booking's life: the confirmation with the ticket (QR code of the signed
//! ticket token and calendar file attached) and the refund notice. Built here, queued by the
//! payment code in the same transaction as the state change they announce.

use askama::Template;
use time::OffsetDateTime;
use url::Url;

use crate::domain::bookings::Booking;
use crate::domain::outbox::{Attachment, EmailKind, NewEmail};
use crate::domain::pricing::format_rupees;
use crate::domain::showtimes;
use crate::domain::tickets;

struct TicketFacts<'a> {
    booking: &'a Booking,
    local_start: String,
    seats: String,
    seats_total: String,
    fee: String,
    tax: String,
    total: String,
    url: String,
}

impl<'a> TicketFacts<'a> {
    fn new(booking: &'a Booking, base_url: &Url) -> Self {
        Self {
            booking,
            local_start: showtimes::format_in_zone(booking.starts_at, &booking.timezone),
            seats: booking.seat_labels(),
            seats_total: format_rupees(booking.amount.seats_paise),
            fee: format_rupees(booking.amount.fee_paise),
            tax: format_rupees(booking.amount.tax_paise),
            total: format_rupees(booking.amount.total_paise),
            url: format!(
                "{}/bookings/{}",
                base_url.as_str().trim_end_matches('/'),
                booking.public_id
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "email/booking_confirmed.html")]
struct ConfirmedHtml<'a> {
    t: &'a TicketFacts<'a>,
}

#[derive(Template)]
#[template(path = "email/booking_confirmed.txt")]
struct ConfirmedText<'a> {
    t: &'a TicketFacts<'a>,
}

#[derive(Template)]
#[template(path = "email/booking_refunded.html")]
struct RefundedHtml<'a> {
    t: &'a TicketFacts<'a>,
    refund: String,
}

#[derive(Template)]
#[template(path = "email/booking_refunded.txt")]
struct RefundedText<'a> {
    t: &'a TicketFacts<'a>,
    refund: String,
}

/// The recipient of a booking's emails (its owner's address).
fn recipient(booking: &Booking) -> String {
    booking.owner_email.clone()
}

/// The confirmation email, sent once per booking (deduplicated by booking id). Its PNG
/// attachment is the QR code of `ticket_token` (`ticket_keys::ticket_token`): the caller
/// loads the signing key, so that this stays a pure function callable inside the
/// settlement's transaction.
pub fn confirmation(
    booking: &Booking,
    ticket_token: &str,
    base_url: &Url,
    now: OffsetDateTime,
) -> NewEmail {
    let facts = TicketFacts::new(booking, base_url);
    NewEmail {
        to: recipient(booking),
        subject: format!(
            "Your tickets for {} · booking {}",
            booking.movie_title, booking.code
        ),
        text: ConfirmedText { t: &facts }.render().unwrap_or_default(),
        html: ConfirmedHtml { t: &facts }.render().unwrap_or_default(),
        kind: EmailKind::BookingConfirmed,
        dedupe_key: Some(format!("booking-confirmed:{}", booking.id)),
        user_id: Some(booking.user_id),
        booking_id: Some(booking.id),
        attachments: vec![
            Attachment {
                filename: format!("ticket-{}.png", booking.code),
                content_type: "image/png".into(),
                data: tickets::qr_png(ticket_token),
            },
            Attachment {
                filename: format!("booking-{}.ics", booking.code),
                content_type: "text/calendar; charset=utf-8".into(),
                data: tickets::calendar_ics(booking, &facts.url, now).into_bytes(),
            },
        ],
    }
}

/// The notice that a booking's money is on its way back (sent once per booking).
pub fn refund_notice(booking: &Booking, amount_paise: i64, base_url: &Url) -> NewEmail {
    let facts = TicketFacts::new(booking, base_url);
    let refund = format_rupees(amount_paise);
    NewEmail {
        to: recipient(booking),
        subject: format!("Refund of {refund} for booking {}", booking.code),
        text: RefundedText {
            t: &facts,
            refund: refund.clone(),
        }
        .render()
        .unwrap_or_default(),
        html: RefundedHtml { t: &facts, refund }
            .render()
            .unwrap_or_default(),
        kind: EmailKind::BookingRefunded,
        dedupe_key: Some(format!("booking-refunded:{}", booking.id)),
        user_id: Some(booking.user_id),
        booking_id: Some(booking.id),
        attachments: Vec::new(),
    }
}
