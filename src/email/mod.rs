//! Outgoing email: the `Mailer` that turns outbox rows into messages and hands them to one
//! of three lettre backends (SMTP, `.eml` files, or the log), plus the builders of each
//! message the application sends (`messages`).
//!
//! Callers never send directly: they `outbox::enqueue` in the transaction of the change the
//! message reports, commit, then call `Mailer::deliver`. Delivery claims the row first (a
//! lease), so with any number of processes each message is sent once; a failure leaves it
//! queued for `retry_due`, which the background job runs.

pub mod messages;
pub mod tickets;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::clock::Clock;
use crate::config::{Config, EmailBackend};
use crate::db::Db;
use crate::domain::ids::OutboxId;
use crate::domain::outbox::{self, AfterFailure, NewEmail, Queued};

/// How long one SMTP command may take before the attempt counts as failed.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(10);
/// The whole of one delivery attempt, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(15);

/// The mailer could not be set up from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error("invalid SMTP_URL: {0}")]
    SmtpUrl(String),
    #[error("invalid EMAIL_FROM {0:?}: expected a mailbox such as `Tickets <tickets@example.com>`")]
    From(String),
    #[error("cannot create the mail folder {dir}: {source}")]
    MailDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

enum Backend {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
    Log,
}

struct Inner {
    backend: Backend,
    from: Mailbox,
    db: Db,
    clock: Clock,
}

/// Sends outbox messages through the configured backend. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.inner.backend {
            Backend::Smtp(_) => "smtp",
            Backend::File(_) => "file",
            Backend::Log => "log",
        };
        f.debug_struct("Mailer").field("backend", &backend).finish()
    }
}

/// After this many failures to reach the mail server in one round, the round stops.
const GIVE_UP_ROUND_AFTER: usize = 3;

/// What one delivery attempt came to.
enum Attempt {
    Sent,
    Failed {
        permanent: bool,
    },
    /// Someone else has it (or it is no longer queued).
    Skipped,
}

/// Why one attempt failed, and whether trying again could help.
struct SendFailure {
    message: String,
    permanent: bool,
}

impl SendFailure {
    fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: false,
        }
    }
    fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            permanent: true,
        }
    }
}

impl Mailer {
    pub fn new(config: &Config, db: Db, clock: Clock) -> Result<Self, MailerError> {
        let from = Mailbox::from_str(&config.email_from)
            .map_err(|_| MailerError::From(config.email_from.clone()))?;
        let backend = match &config.email_backend {
            EmailBackend::Smtp { url } => Backend::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| MailerError::SmtpUrl(e.to_string()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            EmailBackend::File { dir } => {
                std::fs::create_dir_all(dir).map_err(|source| MailerError::MailDir {
                    dir: dir.clone(),
                    source,
                })?;
                Backend::File(AsyncFileTransport::<Tokio1Executor>::new(dir))
            }
            EmailBackend::Log => Backend::Log,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                backend,
                from,
                db,
                clock,
            }),
        })
    }

    /// Claims and sends one queued message now; never returns an error to the caller (a
    /// failure stays queued for the retry job).
    pub async fn deliver(&self, outbox_id: OutboxId) {
        self.try_deliver(outbox_id).await;
    }

    /// Delivers several messages, one after the other.
    pub async fn deliver_all(&self, outbox_ids: impl IntoIterator<Item = OutboxId>) {
        for id in outbox_ids {
            self.deliver(id).await;
        }
    }

    /// Delivers in a background task, so the caller's answer does not wait for (or reveal
    /// anything through the timing of) the mail server.
    pub fn deliver_in_background(&self, outbox_ids: Vec<OutboxId>) {
        if outbox_ids.is_empty() {
            return;
        }
        let mailer = self.clone();
        tokio::spawn(async move { mailer.deliver_all(outbox_ids).await });
    }

    /// Convenience: enqueue in its own statement and deliver at once.
    pub async fn send_now(&self, email: NewEmail) -> Result<(), sqlx::Error> {
        let now = self.inner.clock.unix_now();
        let mut conn = self.inner.db.writer().acquire().await?;
        let id = outbox::enqueue(&mut conn, &email, now).await?;
        drop(conn);
        if let Some(id) = id {
            self.deliver(id).await;
        }
        Ok(())
    }

    /// Background job: deliver every due queued message (claims each first); returns how
    /// many were sent.
    pub async fn retry_due(&self) -> usize {
        let now = self.inner.clock.unix_now();
        let due = match outbox::due(&self.inner.db, now).await {
            Ok(due) => due,
            Err(error) => {
                tracing::warn!(%error, "could not read the email outbox");
                return 0;
            }
        };
        let mut sent = 0;
        let mut server_failures = 0;
        for id in due {
            match self.try_deliver(id).await {
                Attempt::Sent => sent += 1,
                Attempt::Failed { permanent: false } => {
                    server_failures += 1;
                    // The mail server looks down or hung; leave the rest for the next round
                    // instead of spending this one on timeouts.
                    if server_failures >= GIVE_UP_ROUND_AFTER {
                        break;
                    }
                }
                Attempt::Failed { permanent: true } | Attempt::Skipped => {}
            }
        }
        sent
    }

    async fn try_deliver(&self, id: OutboxId) -> Attempt {
        let db = &self.inner.db;
        match outbox::claim(db, id, self.inner.clock.unix_now()).await {
            Ok(true) => {}
            Ok(false) => return Attempt::Skipped,
            Err(error) => {
                tracing::warn!(%error, outbox_id = id.0, "could not claim an outbox message");
                return Attempt::Skipped;
            }
        }
        let message = match outbox::load(db, id).await {
            Ok(Some(message)) => message,
            Ok(None) => return Attempt::Skipped,
            Err(error) => {
                // The claim runs out and the retry job tries again.
                tracing::warn!(%error, outbox_id = id.0, "could not load an outbox message");
                return Attempt::Skipped;
            }
        };
        let result = self.send(&message).await;
        let now = self.inner.clock.unix_now();
        match result {
            Ok(()) => {
                if let Err(error) = outbox::mark_sent(db, id, now).await {
                    tracing::error!(%error, outbox_id = id.0, "sent an email but could not record it; it may be sent again");
                }
                tracing::info!(outbox_id = id.0, kind = %message.kind, "email sent");
                Attempt::Sent
            }
            Err(failure) => {
                match outbox::mark_failed(db, &message, &failure.message, failure.permanent, now)
                    .await
                {
                    Ok(AfterFailure::RetryAt(at)) => tracing::warn!(
                        outbox_id = id.0, kind = %message.kind, attempts = message.attempts + 1,
                        retry_at = at, error = %failure.message,
                        "email not sent; it will be retried"
                    ),
                    Ok(AfterFailure::GaveUp) => tracing::error!(
                        outbox_id = id.0, kind = %message.kind, attempts = message.attempts + 1,
                        error = %failure.message, "email could not be sent; giving up"
                    ),
                    Err(error) => tracing::error!(
                        %error, outbox_id = id.0,
                        "email not sent and the failure could not be recorded"
                    ),
                }
                Attempt::Failed {
                    permanent: failure.permanent,
                }
            }
        }
    }

    async fn send(&self, queued: &Queued) -> Result<(), SendFailure> {
        let message = build_message(&self.inner.from, queued)?;
        match &self.inner.backend {
            Backend::Log => {
                tracing::info!(to = %queued.to, subject = %message_subject(queued), "email (log backend, not sent)");
                Ok(())
            }
            Backend::File(transport) => {
                match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(error)) => Err(SendFailure::transient(error.to_string())),
                    Err(_) => Err(SendFailure::transient("timed out writing the email file")),
                }
            }
            Backend::Smtp(transport) => {
                match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(error)) => Err(SendFailure::transient(smtp_error_text(&error))),
                    Err(_) => Err(SendFailure::transient(
                        "timed out talking to the SMTP server",
                    )),
                }
            }
        }
    }
}

fn smtp_error_text(error: &lettre::transport::smtp::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Keeps only printable characters of a header value: line breaks and other control
/// characters become spaces, so no value can start a header of its own.
pub fn header_safe(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The recipient string for a person: `Name <address>` with the display name cleaned of
/// control characters and quoted as needed, or the bare address when the name is empty or
/// the result would not parse.
pub fn mailbox(name: &str, address: &str) -> String {
    let name: String = header_safe(name).chars().take(100).collect();
    let Ok(address) = address.parse::<lettre::Address>() else {
        return address.to_owned();
    };
    let formatted = Mailbox::new((!name.is_empty()).then_some(name), address.clone()).to_string();
    match Mailbox::from_str(&formatted) {
        Ok(parsed) if parsed.email == address => formatted,
        _ => address.to_string(),
    }
}

fn message_subject(queued: &Queued) -> String {
    header_safe(&queued.subject)
}

/// The plain-text part. Plain ASCII with lines within RFC 5322's limit goes as it is
/// (7bit), so the raw `.eml` of the development backend stays readable and its links
/// copyable; anything else gets the encoding lettre chooses (quoted-printable or base64).
fn text_part(text: &str) -> SinglePart {
    let crlf = text
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace('\n', "\r\n");
    let plain =
        crlf.is_ascii() && !crlf.contains('\0') && crlf.split("\r\n").all(|line| line.len() <= 998);
    let body = if plain {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    };
    SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(body)
}

/// `Auto-Submitted: auto-generated` (RFC 3834): every message we send is written by the
/// application, not a person, so vacation responders and mail filters must not answer it.
#[derive(Debug, Clone, Copy)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        if s.trim().eq_ignore_ascii_case("auto-generated") {
            Ok(Self)
        } else {
            Err(format!("unexpected Auto-Submitted value {s:?}").into())
        }
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// The `Message-ID` of an outbox row: derived from the row (its id and a digest of what it
/// says), so every retry of one message carries the same id and receivers can tell it is
/// the same message, while two databases that reuse an id for different mail do not
/// collide. The domain is the sender's (`EMAIL_FROM`): large providers refuse mail without
/// a valid Message-ID.
fn message_id(from: &Mailbox, queued: &Queued) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(queued.id.0.to_be_bytes())
        .chain_update(queued.to.as_bytes())
        .chain_update([0])
        .chain_update(queued.subject.as_bytes())
        .chain_update([0])
        .chain_update(queued.text.as_bytes())
        .finalize();
    format!(
        "<outbox.{}.{}@{}>",
        queued.id,
        &hex::encode(digest)[..16],
        from.email.domain()
    )
}

/// Builds the MIME message: plain text and HTML alternatives, plus attachments. A recipient
/// that is not exactly one valid mailbox is a permanent failure: it will never send.
fn build_message(from: &Mailbox, queued: &Queued) -> Result<Message, SendFailure> {
    let to = Mailbox::from_str(queued.to.trim()).map_err(|_| {
        SendFailure::permanent(format!("invalid recipient {:?}", header_safe(&queued.to)))
    })?;
    let attachments = queued.attachments.clone().map_err(SendFailure::permanent)?;
    let body = MultiPart::alternative()
        .singlepart(text_part(&queued.text))
        .singlepart(SinglePart::html(queued.html.clone()));
    let builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(message_subject(queued))
        .message_id(Some(message_id(from, queued)))
        .header(AutoSubmitted)
        .date_now();
    let message = if attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for attachment in attachments {
            let content_type = ContentType::parse(&attachment.content_type)
                .or_else(|_| ContentType::parse("application/octet-stream"))
                .map_err(|e| SendFailure::permanent(format!("bad attachment type: {e}")))?;
            mixed = mixed.singlepart(
                lettre::message::Attachment::new(header_safe(&attachment.filename))
                    .body(attachment.data, content_type),
            );
        }
        builder.multipart(mixed)
    };
    message.map_err(|e| SendFailure::permanent(format!("could not build the message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(to: &str, subject: &str) -> Queued {
        Queued {
            id: OutboxId(1),
            to: to.into(),
            subject: subject.into(),
            text: "Hello".into(),
            html: "<p>Hello</p>".into(),
            kind: outbox::EmailKind::Test,
            attempts: 0,
            attachments: Ok(vec![]),
        }
    }

    fn from() -> Mailbox {
        "Tickets <tickets@example.com>".parse().unwrap()
    }

    fn header_lines(message: &Message) -> Vec<String> {
        let raw = String::from_utf8(message.formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap().to_owned();
        head.split("\r\n").map(str::to_owned).collect()
    }

    #[test]
    fn a_hostile_display_name_cannot_add_recipients_or_headers() {
        let to = mailbox(
            "Eve\r\nBcc: victim@example.com\r\nX-Evil: 1",
            "eve@example.com",
        );
        assert!(!to.contains('\n') && !to.contains('\r'), "{to}");
        let message = build_message(&from(), &queued(&to, "Welcome\r\nBcc: victim@example.com"))
            .ok()
            .unwrap();
        let recipients: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(recipients, vec!["eve@example.com".to_owned()]);
        for line in header_lines(&message) {
            let lower = line.to_ascii_lowercase();
            assert!(!lower.starts_with("bcc:"), "{line}");
            assert!(!lower.starts_with("x-evil"), "{line}");
        }
    }

    #[test]
    fn a_plain_text_link_stays_readable_in_the_raw_message() {
        let link = "https://tickets.example.com/accounts/password-reset/confirm?token=abcdefghijklmnopqrstuvwxyz0123456789-_ABCDEFG";
        let mut message = queued("ann@example.com", "Reset");
        message.text = format!("Hi,\n\n{link}\n");
        message.html = format!("<p>Ümlaut <a href=\"{link}\">{link}</a></p>");
        let raw =
            String::from_utf8(build_message(&from(), &message).ok().unwrap().formatted()).unwrap();
        assert!(raw.contains(&format!("\r\n{link}\r\n")), "{raw}");
        // Non-ASCII text still gets a transfer encoding.
        message.text = "Grüße".into();
        let raw =
            String::from_utf8(build_message(&from(), &message).ok().unwrap().formatted()).unwrap();
        assert!(!raw.contains("Grüße"));
    }

    #[test]
    fn every_message_has_a_stable_message_id_on_the_senders_domain_and_says_it_is_automatic() {
        let first = build_message(&from(), &queued("ann@example.org", "Hi"))
            .ok()
            .unwrap();
        let again = build_message(&from(), &queued("ann@example.org", "Hi"))
            .ok()
            .unwrap();
        let id = |message: &Message| {
            header_lines(message)
                .into_iter()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .expect("a Message-ID header")
        };
        assert_eq!(id(&first), id(&again), "a retry is the same message");
        assert!(id(&first).ends_with("@example.com>"), "{}", id(&first));
        assert!(
            id(&first).starts_with("Message-ID: <outbox.1."),
            "{}",
            id(&first)
        );
        let mut other = queued("ann@example.org", "Hi");
        other.id = OutboxId(2);
        let other = build_message(&from(), &other).ok().unwrap();
        assert_ne!(id(&first), id(&other));
        assert!(
            header_lines(&first).contains(&"Auto-Submitted: auto-generated".to_owned()),
            "{:?}",
            header_lines(&first)
        );
    }

    #[test]
    fn a_name_with_commas_and_quotes_stays_one_mailbox() {
        let to = mailbox("Doe, \"Jane\" <x@evil.example>", "jane@example.com");
        let message = build_message(&from(), &queued(&to, "Hi")).ok().unwrap();
        let recipients: Vec<String> = message
            .envelope()
            .to()
            .iter()
            .map(|a| a.to_string())
            .collect();
        assert_eq!(recipients, vec!["jane@example.com".to_owned()]);
    }

    #[test]
    fn a_recipient_list_or_injected_address_is_refused_for_good() {
        for to in [
            "a@example.com, b@example.com",
            "a@example.com\r\nBcc: b@example.com",
            "not an address",
        ] {
            let failure = build_message(&from(), &queued(to, "Hi")).err().unwrap();
            assert!(failure.permanent, "{to}");
        }
    }
}
