//! The account messages, each an HTML part and a plain-text part rendered from
//! `templates/email/`. Links are absolute, built from `BASE_URL` (never from a request's
//! Host header, which an attacker could choose). Building a message sends nothing: callers
//! put it in the outbox. The domain decides which message and with which facts
//! (`AccountMail`); `Config` writes it, being what knows `BASE_URL`.

use askama::Template;

use crate::config::Config;
use crate::domain::accounts::{AccountMail, AccountMailWriter, Recipient};
use crate::domain::outbox::{EmailKind, NewEmail};

impl AccountMailWriter for Config {
    fn write(&self, mail: AccountMail<'_>) -> Result<NewEmail, askama::Error> {
        match mail {
            AccountMail::VerifyEmail { to, token, hours } => verify_email(self, to, token, hours),
            AccountMail::PasswordReset { to, token, minutes } => {
                password_reset(self, to, token, minutes)
            }
            AccountMail::DuplicateRegistration { to } => duplicate_registration(self, to),
        }
    }
}

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

fn message(
    to: Recipient<'_>,
    subject: &str,
    kind: EmailKind,
    text: String,
    html: String,
) -> NewEmail {
    NewEmail {
        to: super::mailbox(to.name, to.email),
        subject: subject.to_owned(),
        text,
        html,
        kind,
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
fn verify_email(
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
        EmailKind::VerifyEmail,
        VerifyText { name, link, hours }.render()?,
        VerifyHtml { name, link, hours }.render()?,
    ))
}

/// "Reset your password", with a single-use link valid for `minutes`.
fn password_reset(
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
        EmailKind::PasswordReset,
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
fn duplicate_registration(config: &Config, to: Recipient<'_>) -> Result<NewEmail, askama::Error> {
    let login_link = config.absolute_url("/accounts/login");
    let reset_link = config.absolute_url("/accounts/password-reset");
    let (name, login_link, reset_link) = (to.name, login_link.as_str(), reset_link.as_str());
    Ok(message(
        to,
        "Someone tried to sign up with your email",
        EmailKind::DuplicateRegistration,
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
                user_id: crate::domain::ids::UserId(7),
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
        assert_eq!(email.user_id, Some(crate::domain::ids::UserId(7)));
        assert_eq!(email.kind, EmailKind::VerifyEmail);
    }
}
