//! Signed tickets (issue #16): the QR code of a confirmed booking is a token
//! `MB1.<payload>.<signature>` that a scanner verifies offline with the public key from
//! `/api/v1/checkin/public-key`, wherever the ticket appears (API, email, ticket page), and
//! that survives a key rotation and a changed SECRET_KEY.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use mail_parser::MimeHeaders;
use moviebooking::domain::ticket_keys;
use moviebooking::domain::ticket_token::{self, InvalidTicket, TicketClaims};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::accounts::wait_for_mails;
use crate::common::admin::{World, confirmed_booking, world};
use crate::common::booking::{hold, logged_in_visitors};
use crate::common::catalogue::seed_small_showtime;
use crate::common::production::run_binary;
use crate::common::{Browser, TestApp};

/// The API's booking object, as its owner sees it.
async fn booking(owner: &Browser, public_id: &str) -> Value {
    let (status, body) = owner
        .get_json(&format!("/api/v1/bookings/{public_id}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn token_of(owner: &Browser, public_id: &str) -> String {
    booking(owner, public_id).await["ticket_token"]
        .as_str()
        .expect("a confirmed booking has a ticket token")
        .to_owned()
}

fn decode_key(encoded: &str) -> VerifyingKey {
    let bytes: [u8; 32] = URL_SAFE_NO_PAD
        .decode(encoded)
        .expect("base64url without padding")
        .try_into()
        .expect("32 raw bytes");
    VerifyingKey::from_bytes(&bytes).expect("an Ed25519 public key")
}

/// `/api/v1/checkin/public-key` fetched without logging in: (body, current key, all keys).
async fn served_keys(app: &TestApp) -> (Value, VerifyingKey, Vec<VerifyingKey>) {
    let (status, body) = app.browser().get_json("/api/v1/checkin/public-key").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["algorithm"], "Ed25519");
    let current = decode_key(body["public_key"].as_str().expect("public_key"));
    let all: Vec<VerifyingKey> = body["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| decode_key(k["public_key"].as_str().expect("public_key")))
        .collect();
    (body, current, all)
}

/// What a scanner does, written out: split, decode, `verify_strict` over `MB1.<payload>`.
fn scanner_accepts(token: &str, key: &VerifyingKey) -> Option<Value> {
    let (signed, signature) = token.rsplit_once('.')?;
    let (prefix, payload) = signed.split_once('.')?;
    if prefix != "MB1" {
        return None;
    }
    let signature: [u8; 64] = URL_SAFE_NO_PAD.decode(signature).ok()?.try_into().ok()?;
    key.verify_strict(signed.as_bytes(), &Signature::from_bytes(&signature))
        .ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[tokio::test]
async fn a_confirmed_ticket_verifies_offline_with_the_served_key_and_nothing_else_does() {
    let w = world().await;
    let (owner, id) = confirmed_booking(&w).await;
    let b = booking(&owner, &id).await;
    let token = token_of(&owner, &id).await;
    // Rendering it again gives the same token.
    assert_eq!(token_of(&owner, &id).await, token);

    let (body, key, all) = served_keys(&w.app).await;
    assert_eq!(all, vec![key], "one key so far: {body}");
    assert_eq!(body["keys"][0]["key_id"], body["key_id"]);
    assert!(body["keys"][0]["created_at"].as_i64().unwrap() > 0);

    // An independent check, as a scanner would do it...
    let payload = scanner_accepts(&token, &key).expect("the scanner accepts it");
    let labels: Vec<Value> = b["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].clone())
        .collect();
    assert_eq!(
        payload,
        json!({"b": id, "s": b["showtime_id"], "seats": labels, "iat": payload["iat"]})
    );
    // Compact, keys in the documented order (checked on the raw bytes: a JSON map sorts).
    let raw_payload = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    let seats: Vec<String> = labels.iter().map(Value::to_string).collect();
    assert_eq!(
        String::from_utf8(raw_payload).unwrap(),
        format!(
            r#"{{"b":"{id}","s":{},"seats":[{}],"iat":{}}}"#,
            b["showtime_id"],
            seats.join(","),
            payload["iat"]
        )
    );
    // ...and through the module the check-in uses.
    let claims = ticket_token::verify(&token, &[key]).expect("valid");
    assert_eq!(claims.b, id);
    assert_eq!(claims.s.0, b["showtime_id"].as_i64().unwrap());
    assert_eq!(claims.seats.len(), 2);
    let stored = moviebooking::domain::bookings::find_by_public_id(
        &w.app.db,
        &moviebooking::domain::bookings::PublicId::parse(&id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        Some(claims.iat),
        stored.confirmed_at.map(|t| t.unix_timestamp())
    );

    // Any single byte changed, anywhere: refused.
    for i in 0..token.len() {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let changed = String::from_utf8(bytes).unwrap();
        assert!(
            ticket_token::verify(&changed, &[key]).is_err(),
            "byte {i} changed: {changed}"
        );
        assert!(scanner_accepts(&changed, &key).is_none(), "byte {i}");
    }
    // Truncated: refused.
    for len in [0, 3, 4, token.len() / 2, token.len() - 1] {
        assert!(
            ticket_token::verify(&token[..len], &[key]).is_err(),
            "{len}"
        );
    }
    // The same claims signed by a key we do not know: refused.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let forged = ticket_token::sign(&claims, &stranger);
    assert_eq!(
        ticket_token::verify(&forged, &all),
        Err(InvalidTicket::BadSignature)
    );
    assert!(scanner_accepts(&forged, &key).is_none());
    // And other claims with a key we do not know.
    let other = TicketClaims {
        seats: vec!["A1".into()],
        ..claims
    };
    assert!(ticket_token::verify(&ticket_token::sign(&other, &stranger), &all).is_err());
}

/// The grey pixels of a PNG (the QR attachment is 8-bit greyscale).
fn png_to_grey(data: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(data))
        .read_info()
        .expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buffer).expect("a frame");
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(info.bit_depth, png::BitDepth::Eight);
    buffer.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buffer)
}

fn read_qr(width: usize, height: usize, grey: &[u8]) -> String {
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("a readable QR code").1
}

#[tokio::test]
async fn the_qr_code_in_the_confirmation_email_is_exactly_the_ticket_token() {
    let w = world().await;
    let (owner, id) = confirmed_booking(&w).await;
    let token = token_of(&owner, &id).await;
    let code = booking(&owner, &id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let mails = wait_for_mails(&w.app, 1).await;
    let raw = mails
        .iter()
        .find(|m| m.contains(&format!("ticket-{code}.png")))
        .expect("the confirmation with its ticket");
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a MIME message");
    let png = message
        .attachments()
        .find(|a| a.content_type().and_then(|c| c.subtype()) == Some("png"))
        .expect("a PNG attachment");
    let (width, height, grey) = png_to_grey(png.contents());
    assert_eq!(read_qr(width, height, &grey), token);
    // The code for typing in by hand is still in the email.
    assert!(message.body_text(0).unwrap().contains(&code));
}

#[tokio::test]
async fn the_ticket_page_and_its_svg_show_the_token_and_the_code_for_manual_entry() {
    let w = world().await;
    let (owner, id) = confirmed_booking(&w).await;
    let token = token_of(&owner, &id).await;
    let code = booking(&owner, &id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = owner.get(&format!("/bookings/{id}/qr.svg")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "image/svg+xml"
    );
    let svg = response.text().await.unwrap();
    // The QR rendering is deterministic: the same picture as the token's own.
    assert_eq!(svg, moviebooking::domain::tickets::qr_svg(&token));
    assert_ne!(svg, moviebooking::domain::tickets::qr_svg(&code));

    let (status, page) = owner.get_text(&format!("/bookings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("/bookings/{id}/qr.svg")), "{page}");
    assert!(page.contains(&format!("<code>{code}</code>")), "{page}");

    // Nobody else gets the ticket.
    let stranger = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, _) = stranger.get_text(&format!("/bookings/{id}/qr.svg")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pending_and_refunded_bookings_have_no_ticket() {
    let w = world().await;
    let show = seed_small_showtime(&w.app).await;
    let visitor = logged_in_visitors(&w.app, 1).await.remove(0);
    let (status, held) = hold(&visitor, show.showtime_id, &show.seat_ids[0..1]).await;
    assert_eq!(status, StatusCode::CREATED, "{held}");
    assert_eq!(held["booking"]["ticket_token"], Value::Null, "{held}");
    let pending = held["booking"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        booking(&visitor, &pending).await["ticket_token"],
        Value::Null
    );
    let (status, _) = visitor
        .get_text(&format!("/bookings/{pending}/qr.svg"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (owner, id) = confirmed_booking(&w).await;
    assert!(booking(&owner, &id).await["ticket_token"].is_string());
    let (status, list) = owner.get_json("/api/v1/bookings").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list["items"][0]["ticket_token"].is_string(), "{list}");

    let cancel = owner
        .post_json(&format!("/api/v1/bookings/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status(), StatusCode::OK);
    let cancelled: Value = cancel.json().await.unwrap();
    assert_eq!(cancelled["status"], "refunded", "{cancelled}");
    assert_eq!(cancelled["ticket_token"], Value::Null);
    assert_eq!(booking(&owner, &id).await["ticket_token"], Value::Null);
    let (status, _) = owner.get_text(&format!("/bookings/{id}/qr.svg")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, page) = owner.get_text(&format!("/bookings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("qr.svg"), "no QR code on a refunded booking");
    assert!(
        page.contains("This booking was refunded. Its ticket is no longer valid for entry."),
        "{page}"
    );
}

#[tokio::test]
async fn a_rotation_keeps_old_tickets_valid_and_signs_new_ones_with_the_new_key() {
    let w = world().await;
    let (first_owner, first) = confirmed_booking(&w).await;
    let old_token = token_of(&first_owner, &first).await;
    let (before, old_key, _) = served_keys(&w.app).await;

    let new_id = ticket_keys::rotate(&w.app.db, w.app.state.clock.unix_now())
        .await
        .unwrap();
    let (after, new_key, all) = served_keys(&w.app).await;
    assert_eq!(after["key_id"], new_id.as_str());
    assert_ne!(after["key_id"], before["key_id"]);
    assert_eq!(all, vec![new_key, old_key], "newest first: {after}");

    // The emailed ticket still passes with the served key list, not with the new key alone.
    assert!(ticket_token::verify(&old_token, &all).is_ok());
    assert_eq!(
        ticket_token::verify(&old_token, &[new_key]),
        Err(InvalidTicket::BadSignature)
    );
    // A ticket sold now is signed with the new key.
    let (second_owner, second) = confirmed_booking(&w).await;
    let new_token = token_of(&second_owner, &second).await;
    assert!(ticket_token::verify(&new_token, &[new_key]).is_ok());
    assert!(ticket_token::verify(&new_token, &[old_key]).is_err());
    // So is the first booking's ticket as shown now; the one in its email stays valid.
    let reissued = token_of(&first_owner, &first).await;
    assert!(ticket_token::verify(&reissued, &[new_key]).is_ok());
    assert_eq!(
        ticket_token::verify(&reissued, &all),
        ticket_token::verify(&old_token, &all)
    );
}

#[tokio::test]
async fn the_cli_rotates_the_key_and_the_server_serves_both() {
    let w = world().await;
    let (owner, id) = confirmed_booking(&w).await;
    let token = token_of(&owner, &id).await;
    let dir = tempfile::tempdir().unwrap();
    let url = w.app.state.config.database_url.clone();
    let output = run_binary(
        dir.path(),
        &[("DATABASE_URL", url.as_str())],
        &["rotate-ticket-key"],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key_id = stdout.trim();
    let (body, _, all) = served_keys(&w.app).await;
    assert_eq!(body["key_id"], key_id, "{body}");
    assert_eq!(all.len(), 2);
    assert!(ticket_token::verify(&token, &all).is_ok());
}

#[tokio::test]
async fn a_changed_secret_key_voids_no_ticket() {
    let w: World = world().await;
    let (owner, id) = confirmed_booking(&w).await;
    let token = token_of(&owner, &id).await;
    let other = w
        .app
        .another_instance_with(&[(
            "SECRET_KEY",
            "a-completely-different-secret-key-9876543210-abcdef",
        )])
        .await;
    assert_ne!(
        other.state.config.secret_key.expose(),
        w.app.state.config.secret_key.expose(),
        "the second instance runs with another secret"
    );
    let (_, _, keys) = served_keys(&other).await;
    assert!(ticket_token::verify(&token, &keys).is_ok());
    // And it issues the very same ticket for the booking.
    let stored = moviebooking::domain::bookings::find_by_public_id(
        &other.db,
        &moviebooking::domain::bookings::PublicId::parse(&id).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        ticket_keys::ticket_token(&other.db, &stored).await.unwrap(),
        Some(token)
    );
}

#[tokio::test]
async fn the_first_signing_key_is_created_once_even_by_racing_callers() {
    let app = TestApp::spawn().await;
    let now = app.state.clock.unix_now();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let db = app.db.clone();
            tokio::spawn(async move { ticket_keys::signing_key(&db, now).await })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for racer in racers {
        let (key_id, _) = racer.await.unwrap().unwrap();
        ids.insert(key_id);
    }
    assert_eq!(ids.len(), 1, "{ids:?}");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_signing_keys")
        .fetch_one(app.db.reader())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let keys = ticket_keys::verifying_keys(&app.db).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(Some(&keys[0].key_id), ids.iter().next());
}
