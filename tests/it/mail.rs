//! Account mail on the wire: a real SMTP conversation, a down server that neither fails
//! registration nor loses the message, giving up after eight attempts, hostile names that
//! cannot add recipients or headers, and two processes that send each message once.

use crate::common::accounts::{PASSWORD, hours, minutes, outbox_rows, register_form};
use crate::common::accounts::{link_in_mail, wait_for_mails, wait_for_sent};
use crate::common::smtp_sink::SmtpSink;
use crate::common::{TestApp, location};
use moviebooking::domain::outbox::{self, NewEmail};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn mail_goes_through_a_real_smtp_conversation() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&[("EMAIL_BACKEND", "smtp"), ("SMTP_URL", &sink.url())]).await;
    let client = app.browser();
    let response = client
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": "lu@example.com", "password": PASSWORD, "name": "Lu" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    let mail = &messages[0];
    assert_eq!(mail.from, "tickets@localhost");
    assert_eq!(mail.recipients, vec!["lu@example.com".to_owned()]);
    assert!(
        mail.headers()
            .contains("Subject: Confirm your email address")
    );
    let link = link_in_mail(&mail.data, "/accounts/verify", &app.base_url);
    let (_, page) = client.get_text(&link).await;
    assert!(page.contains("Email confirmed"));

    wait_for_sent(&app, 1).await;
    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "sent");
    assert_eq!(rows[0].1, 1);
    assert_eq!(rows[0].3, "verify_email");
}

#[tokio::test]
async fn a_down_smtp_server_does_not_fail_registration_and_a_retry_delivers_once() {
    let sink = SmtpSink::down().await;
    let app = TestApp::spawn_with(&[("EMAIL_BACKEND", "smtp"), ("SMTP_URL", &sink.url())]).await;
    let browser = app.browser();
    let response = register_form(&browser, "Max", "max@example.com").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/accounts/verify/sent");

    let rows = outbox_rows(&app).await;
    assert_eq!(rows.len(), 1);
    let (status, attempts, last_error, _) = &rows[0];
    assert_eq!(status, "queued");
    assert_eq!(*attempts, 1);
    assert!(
        last_error.as_deref().is_some_and(|e| !e.is_empty()),
        "{last_error:?}"
    );

    sink.up().await;
    app.run_jobs().await;
    assert_eq!(sink.messages().len(), 0, "not due before its backoff");

    app.state.clock.advance(minutes(2));
    app.run_jobs().await;
    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].recipients, vec!["max@example.com".to_owned()]);

    app.run_jobs().await;
    app.state.clock.advance(hours(1));
    app.run_jobs().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 1, "delivered exactly once");
    let rows = outbox_rows(&app).await;
    assert_eq!(rows[0].0, "sent");
    assert_eq!(rows[0].1, 2);
    assert_eq!(rows[0].2, None);

    let link = link_in_mail(&messages[0].data, "/accounts/verify", &app.base_url);
    let (_, page) = browser.get_text(&link).await;
    assert!(page.contains("Email confirmed"));
}

#[tokio::test]
async fn a_message_that_keeps_failing_is_given_up_after_eight_attempts() {
    let sink = SmtpSink::down().await;
    let app = TestApp::spawn_with(&[("EMAIL_BACKEND", "smtp"), ("SMTP_URL", &sink.url())]).await;
    app.browser()
        .post_json(
            "/api/v1/auth/register",
            &json!({ "email": "ned@example.com", "password": PASSWORD, "name": "Ned" }),
        )
        .await;
    for _ in 0..10 {
        app.state.clock.advance(hours(2));
        app.run_jobs().await;
    }
    let rows = outbox_rows(&app).await;
    assert_eq!(rows[0].0, "failed");
    assert_eq!(rows[0].1, outbox::MAX_ATTEMPTS);
}

#[tokio::test]
async fn a_hostile_name_cannot_add_recipients_or_headers() {
    let sink = SmtpSink::start().await;
    let app = TestApp::spawn_with(&[("EMAIL_BACKEND", "smtp"), ("SMTP_URL", &sink.url())]).await;
    let client = app.browser();

    // Line breaks in a name are refused outright.
    let response = client
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": "eve@example.com",
                "password": PASSWORD,
                "name": "Eve\r\nBcc: victim@example.com"
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert!(body["fields"]["name"].is_string());

    // Header-looking text without line breaks stays inside the quoted display name.
    let response = client
        .post_json(
            "/api/v1/auth/register",
            &json!({
                "email": "eve@example.com",
                "password": PASSWORD,
                "name": "Eve Bcc: victim@example.com, <x@evil.example>"
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let messages = sink.wait_for(1).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].recipients, vec!["eve@example.com".to_owned()]);
    for line in messages[0].headers().lines() {
        let lower = line.to_ascii_lowercase();
        assert!(
            !lower.starts_with("bcc:") && !lower.starts_with("cc:"),
            "{line}"
        );
    }

    // A recipient string smuggling a second header never leaves the outbox.
    app.state
        .mailer
        .send_now(NewEmail {
            to: "eve@example.com\r\nBcc: victim@example.com".into(),
            subject: "Hello\r\nBcc: victim@example.com".into(),
            text: "hi".into(),
            html: "<p>hi</p>".into(),
            kind: outbox::EmailKind::Test,
            dedupe_key: None,
            user_id: None,
            booking_id: None,
            attachments: vec![],
        })
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(sink.messages().len(), 1);
    let rows = outbox_rows(&app).await;
    assert_eq!(rows[1].0, "failed", "refused for good, not retried");
}

#[tokio::test]
async fn two_processes_send_each_outbox_message_once() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let email = NewEmail {
        to: "Ola <ola@example.com>".into(),
        subject: "Your ticket".into(),
        text: "See the attachment.".into(),
        html: "<p>See the attachment.</p>".into(),
        kind: outbox::EmailKind::Test,
        dedupe_key: Some("ticket:1".into()),
        user_id: None,
        booking_id: Some(moviebooking::domain::ids::BookingId(1)),
        attachments: vec![outbox::Attachment {
            filename: "ticket.txt".into(),
            content_type: "text/plain".into(),
            data: b"ROW A SEAT 1".to_vec(),
        }],
    };
    let now = app.state.clock.unix_now();
    let id = {
        let mut conn = app.db.writer().acquire().await.unwrap();
        outbox::enqueue(&mut conn, &email, now).await.unwrap()
    }
    .expect("a new row");
    let again = {
        let mut conn = app.db.writer().acquire().await.unwrap();
        outbox::enqueue(&mut conn, &email, now).await.unwrap()
    };
    assert_eq!(again, None, "a dedupe key is stored once, ever");

    let (_, _, sent_here, sent_there) = tokio::join!(
        app.state.mailer.deliver(id),
        other.state.mailer.deliver(id),
        app.state.mailer.retry_due(),
        other.state.mailer.retry_due(),
    );
    assert!(sent_here + sent_there <= 1);
    // Each instance's own background loop may be the one that got it; wait for the send.
    wait_for_mails(&app, 1).await;
    app.run_jobs().await;
    other.run_jobs().await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let mails = app.mails();
    assert_eq!(mails.len(), 1, "sent once across both processes");
    assert!(mails[0].contains("ticket.txt"), "the attachment is there");
    let rows = outbox_rows(&app).await;
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("sent", 1));
}
