//! What a moviegoer carries to the cinema: the QR code of the signed ticket token (see
//! `ticket_token`) and a calendar entry for the show. Pure functions shared by the booking
//! pages and the emails.

use qrcode::QrCode;
use qrcode::render::svg;
use time::OffsetDateTime;

use crate::domain::bookings::Booking;

/// `text` (the ticket token) as an SVG QR code (for pages).
pub fn qr_svg(text: &str) -> String {
    match QrCode::new(text.as_bytes()) {
        Ok(qr) => qr
            .render::<svg::Color>()
            .min_dimensions(200, 200)
            .dark_color(svg::Color("#111111"))
            .light_color(svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
        // A ticket token is a few hundred ASCII bytes, far below a QR code's capacity; this
        // cannot fail, but never panic for it.
        Err(_) => String::new(),
    }
}

/// `text` (the ticket token) as a PNG QR code (for emails: mail clients do not show SVG).
/// Eight pixels a module with the quiet zone, black on white.
pub fn qr_png(text: &str) -> Vec<u8> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let Ok(qr) = QrCode::new(text.as_bytes()) else {
        return Vec::new();
    };
    let modules = qr.width();
    let colors = qr.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (mx, my) = (i % modules + QUIET, i / modules + QUIET);
            for y in my * SCALE..(my + 1) * SCALE {
                pixels[y * side + mx * SCALE..y * side + (mx + 1) * SCALE].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let Ok(mut writer) = encoder.write_header() else {
            return Vec::new();
        };
        if writer.write_image_data(&pixels).is_err() {
            return Vec::new();
        }
    }
    out
}

fn ics_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Escapes text for an iCalendar property value (RFC 5545 section 3.3.11).
fn ics_text(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// An iCalendar file with one event for the show. `booking_url` links back to the booking.
pub fn calendar_ics(booking: &Booking, booking_url: &str, now: OffsetDateTime) -> String {
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//moviebooking//tickets//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@moviebooking", booking.public_id),
        format!("DTSTAMP:{}", ics_time(now)),
        format!("DTSTART:{}", ics_time(booking.starts_at)),
        format!("DTEND:{}", ics_time(booking.ends_at)),
        format!("SUMMARY:{}", ics_text(&booking.movie_title)),
        format!(
            "LOCATION:{}",
            ics_text(&format!(
                "{}, {}, {}",
                booking.theatre_name, booking.screen_name, booking.city_name
            ))
        ),
        format!(
            "DESCRIPTION:{}",
            ics_text(&format!(
                "Booking {} · Seats {}",
                booking.code,
                booking.seat_labels()
            ))
        ),
        format!("URL:{}", ics_text(booking_url)),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    let mut out = lines.join("\r\n");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_text_is_escaped() {
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        assert_eq!(
            ics_time(time::macros::datetime!(2026-11-28 14:00 UTC)),
            "20261128T140000Z"
        );
    }

    #[test]
    fn the_qr_code_is_also_a_png_for_emails() {
        let png = qr_png("MB7K2Q9X");
        assert_eq!(&png[1..4], b"PNG");
    }

    #[test]
    fn the_qr_code_is_an_svg() {
        let svg = qr_svg("MB7K2Q9X");
        assert!(svg.contains("<svg"));
        // A ticket token (about 200 bytes) fits too.
        assert!(qr_svg(&"MB1.x".repeat(60)).contains("<svg"));
        assert_eq!(&qr_png(&"MB1.x".repeat(60))[1..4], b"PNG");
    }
}
