//! How a variable's text becomes a value, shared by every concern's parser.
//!
//! A parser never stops at a refused setting: it records the error and goes on with the
//! default, so one run reports every bad setting (to the operator starting the app, and to
//! `check --deploy`, which reads the same parsers).

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

use super::ConfigError;

/// Declares a concern's variables: one `const` per name (the name is written once, as the
/// identifier) and `VARIABLES`, the list `.env.example` is checked against.
macro_rules! variables {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        $( $(#[$doc])* pub const $name: &str = stringify!($name); )+
        /// Every variable this concern reads.
        pub const VARIABLES: &[&str] = &[$($name),+];
    };
}
pub(crate) use variables;

/// The variables as the parsers see them: trimmed, and an empty value counts as unset.
#[derive(Debug, Clone, Copy)]
pub struct Vars<'a>(&'a HashMap<String, String>);

impl<'a> Vars<'a> {
    pub fn new(vars: &'a HashMap<String, String>) -> Self {
        Self(vars)
    }

    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }
}

/// The settings refused so far, in the order they were read.
#[derive(Debug, Default)]
pub struct Errors(Vec<ConfigError>);

impl Errors {
    pub fn push(&mut self, error: ConfigError) {
        self.0.push(error);
    }

    pub fn into_vec(self) -> Vec<ConfigError> {
        self.0
    }

    /// The variable parsed as `T`, or `default` when unset (and when refused, recorded).
    pub fn parse_or<T: FromStr>(
        &mut self,
        vars: Vars,
        name: &'static str,
        default: T,
        expected: &str,
    ) -> T {
        match vars.get(name) {
            None => default,
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                self.push(ConfigError::new(name, raw, expected));
                default
            }),
        }
    }

    /// The variable parsed as `T` when set; `None` when unset or refused (recorded).
    pub fn parse_optional<T: FromStr>(
        &mut self,
        vars: Vars,
        name: &'static str,
        expected: &str,
    ) -> Option<T> {
        let raw = vars.get(name)?;
        raw.parse()
            .map_err(|_| self.push(ConfigError::new(name, raw, expected)))
            .ok()
    }

    /// A whole number of seconds.
    pub fn seconds(
        &mut self,
        vars: Vars,
        name: &'static str,
        default: u64,
        expected: &str,
    ) -> Duration {
        Duration::from_secs(self.parse_or(vars, name, default, expected))
    }

    /// A whole number of minutes.
    pub fn minutes(&mut self, vars: Vars, name: &'static str, default: u64) -> Duration {
        Duration::from_secs(60 * self.parse_or(vars, name, default, "a whole number of minutes"))
    }

    /// A yes/no setting that is off unless said otherwise.
    pub fn flag(&mut self, vars: Vars, name: &'static str) -> bool {
        match vars.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("0" | "false" | "no" | "off") => false,
            Some("1" | "true" | "yes" | "on") => true,
            Some(other) => {
                self.push(ConfigError::new(name, other, "true or false"));
                false
            }
        }
    }
}

/// A comma-separated list, without blanks.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// A URL with its password replaced, safe to show in an error message.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}
