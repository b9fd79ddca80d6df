//! Outgoing email: where it goes (SMTP, files or the log) and who it is from.

use std::path::PathBuf;
use strum::{EnumString, IntoStaticStr};

use super::read::{Errors, Vars, variables};
use super::{ConfigError, Environment, redact_url};

variables! {
    EMAIL_BACKEND,
    SMTP_URL,
    EMAIL_FILE_DIR,
    EMAIL_FROM,
}

/// The words `EMAIL_BACKEND` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr)]
#[strum(serialize_all = "lowercase")]
pub enum EmailBackendKind {
    Smtp,
    File,
    Log,
}

/// Where outgoing email goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailBackend {
    /// Real delivery through an SMTP server (`SMTP_URL`).
    Smtp { url: String },
    /// One `.eml` file per message in a folder; the development default.
    File { dir: PathBuf },
    /// Messages are only logged (subject and recipient, never the body).
    Log,
}

/// The email settings.
#[derive(Debug, Clone)]
pub struct Email {
    pub backend: EmailBackend,
    pub from: String,
}

impl Email {
    pub fn parse(vars: Vars, environment: Environment, errors: &mut Errors) -> Self {
        let default = if environment == Environment::Production {
            EmailBackendKind::Smtp
        } else {
            EmailBackendKind::File
        };
        let kind = match vars.get(EMAIL_BACKEND) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                errors.push(ConfigError::new(
                    EMAIL_BACKEND,
                    raw,
                    "`smtp`, `file` or `log`",
                ));
                EmailBackendKind::Log
            }),
        };
        let backend = match kind {
            EmailBackendKind::Smtp => match vars.get(SMTP_URL) {
                None => {
                    errors.push(ConfigError::new(
                        SMTP_URL,
                        "",
                        "an SMTP URL such as smtps://user:pass@host:465 (needed by EMAIL_BACKEND=smtp)",
                    ));
                    EmailBackend::Log
                }
                Some(url) if !(url.starts_with("smtp://") || url.starts_with("smtps://")) => {
                    errors.push(ConfigError::new(
                        SMTP_URL,
                        &redact_url(url),
                        "an smtp:// or smtps:// URL",
                    ));
                    EmailBackend::Log
                }
                Some(url) => EmailBackend::Smtp {
                    url: url.to_owned(),
                },
            },
            EmailBackendKind::File => EmailBackend::File {
                dir: PathBuf::from(vars.get(EMAIL_FILE_DIR).unwrap_or("./mail")),
            },
            EmailBackendKind::Log => EmailBackend::Log,
        };
        let from = vars
            .get(EMAIL_FROM)
            .unwrap_or("moviebooking <tickets@localhost>")
            .to_owned();
        if from.parse::<lettre::message::Mailbox>().is_err() {
            errors.push(ConfigError::new(
                EMAIL_FROM,
                &from,
                "a mailbox such as `Moviebooking <tickets@example.com>`",
            ));
        }
        Self { backend, from }
    }
}
