//! Email: delivered over SMTP, with TLS.

use url::Url;

use super::Findings;
use crate::config::email::{EMAIL_BACKEND, EmailBackendKind, SMTP_URL};
use crate::config::redact_url;

/// Both judged as written: `backend` unset means smtp, as in production; an SMTP URL the
/// application refuses does not require TLS either.
pub(super) fn check_email(backend: Option<&str>, smtp_url: Option<&str>, out: &mut Findings) {
    let backend = backend.unwrap_or(EmailBackendKind::Smtp.into());
    if backend.parse::<EmailBackendKind>().ok() != Some(EmailBackendKind::Smtp) {
        out.add(
            "MB-E050",
            EMAIL_BACKEND,
            format!(
                "EMAIL_BACKEND={backend:?}: confirmation emails and tickets would not be delivered."
            ),
            "Set EMAIL_BACKEND=smtp and SMTP_URL to your provider's SMTP server.",
        );
        return;
    }
    let Some(url) = smtp_url else {
        out.add(
            "MB-E051",
            SMTP_URL,
            "SMTP_URL is not set, but EMAIL_BACKEND is smtp.".into(),
            "Set SMTP_URL=smtps://USER:PASSWORD@smtp.example.com:465 (or smtp://…:587?tls=required).",
        );
        return;
    };
    let tls_required = Url::parse(url).ok().is_some_and(|u| match u.scheme() {
        "smtps" => true,
        "smtp" => u.query_pairs().any(|(k, v)| k == "tls" && v == "required"),
        _ => false,
    });
    if !tls_required {
        out.add(
            "MB-E052",
            SMTP_URL,
            format!(
                "SMTP_URL {:?} does not require TLS, so the SMTP password and the tickets may travel in clear.",
                redact_url(url)
            ),
            "Use smtps://…:465, or smtp://…:587?tls=required for STARTTLS.",
        );
    }
}
