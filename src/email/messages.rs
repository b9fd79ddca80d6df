//! The account messages, each an HTML part and a plain-text part rendered from
//! `templates/email/`. Links are absolute, built from `BASE_URL` (never from a request's
//! Host header, which an attacker could choose). Building a message sends nothing: callers
//! put it in the outbox.

use askama::Template;

use crate::config::Config;
use crate::domain::outbox::NewEmail;

/// Kinds of message, as stored in `email_outbox.kind`.
pub const KIND_VERIFY: &str = "verify_email";
pub const KIND_RESET: &str = "password_reset";
pub const KIND_DUPLICATE: &str = "duplicate_registration";

#[derive(Template)]
#[template(path = "email/verify.html")]
struct VerifyHtml<'a> {
    name: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "email/verify.txt")]
struct VerifyText<'a> {
    name: &'a str,
    link: &'a str,
    hours: i64,
}

#[derive(Template)]
#[template(path = "email/reset.html")]
struct ResetHtml<'a> {
    name: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "email/reset.txt")]
struct ResetText<'a> {
    name: &'a str,
    link: &'a str,
    minutes: i64,
}

#[derive(Template)]
#[template(path = "email/duplicate_registration.html")]
struct DuplicateHtml<'a> {
    name: &'a str,
    login_link: &'a str,
    reset_link: &'a str,
}

#[derive(Template)]
#[template(path = "email/duplicate_registration.txt")]
struct DuplicateText<'a> {
    name: &'a str,
    login_link: &'a str,
    reset_link: &'a str,
}

/// Who a message is for.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub email: &'a str,
}

fn message(to: Recipient<'_>, subject: &str, kind: &str, text: String, html: String) -> NewEmail {
    NewEmail {
        to: super::mailbox(to.name, to.email),
        subject: subject.to_owned(),
        text,
        html,
        kind: kind.to_owned(),
        dedupe_key: None,
        user_id: Some(to.user_id),
        booking_id: None,
        attachments: Vec::new(),
    }
}

fn with_token(config: &Config, path: &str, token: &str) -> String {
    let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
    config.absolute_url(&format!("{path}?token={token}"))
}

/// "Confirm your email address", with a single-use link valid for `hours`.
pub fn verify_email(
    config: &Config,
    to: Recipient<'_>,
    token: &str,
    hours: i64,
) -> Result<NewEmail, askama::Error> {
    let link = with_token(config, "/accounts/verify", token);
    let (name, link) = (to.name, link.as_str());
    Ok(message(
        to,
        "Confirm your email address",
        KIND_VERIFY,
        VerifyText { name, link, hours }.render()?,
        VerifyHtml { name, link, hours }.render()?,
    ))
}

/// "Reset your password", with a single-use link valid for `minutes`.
pub fn password_reset(
    config: &Config,
    to: Recipient<'_>,
    token: &str,
    minutes: i64,
) -> Result<NewEmail, askama::Error> {
    let link = with_token(config, "/accounts/password-reset/confirm", token);
    let (name, link) = (to.name, link.as_str());
    Ok(message(
        to,
        "Reset your password",
        KIND_RESET,
        ResetText {
            name,
            link,
            minutes,
        }
        .render()?,
        ResetHtml {
            name,
            link,
            minutes,
        }
        .render()?,
    ))
}

/// Tells the owner of an address that someone tried to register with it again. Sent instead
/// of any visible "already registered" answer, which would reveal who has an account.
pub fn duplicate_registration(
    config: &Config,
    to: Recipient<'_>,
) -> Result<NewEmail, askama::Error> {
    let login_link = config.absolute_url("/accounts/login");
    let reset_link = config.absolute_url("/accounts/password-reset");
    let (name, login_link, reset_link) = (to.name, login_link.as_str(), reset_link.as_str());
    Ok(message(
        to,
        "Someone tried to sign up with your email",
        KIND_DUPLICATE,
        DuplicateText {
            name,
            login_link,
            reset_link,
        }
        .render()?,
        DuplicateHtml {
            name,
            login_link,
            reset_link,
        }
        .render()?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let dir = tempfile::tempdir().unwrap();
        let vars = std::collections::HashMap::from([(
            "BASE_URL".to_owned(),
            "https://tickets.example.com".to_owned(),
        )]);
        Config::from_vars(&vars, dir.path()).unwrap()
    }

    #[test]
    fn the_verification_mail_links_to_base_url_and_escapes_the_name() {
        let email = verify_email(
            &config(),
            Recipient {
                user_id: 7,
                name: "<b>Eve</b>",
                email: "eve@example.com",
            },
            "abc-_123",
            48,
        )
        .unwrap();
        let link = "https://tickets.example.com/accounts/verify?token=abc-_123";
        assert!(email.text.contains(link), "{}", email.text);
        assert!(email.html.contains(link), "{}", email.html);
        assert!(email.html.contains("&#60;b&#62;Eve") || email.html.contains("&lt;b&gt;Eve"));
        assert!(!email.html.contains("<b>Eve"));
        assert_eq!(email.user_id, Some(7));
        assert_eq!(email.kind, KIND_VERIFY);
    }
}
