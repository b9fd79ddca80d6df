//! Where the server listens and the public address of the site.

use std::net::{IpAddr, Ipv4Addr};

use url::Url;

use super::read::{Errors, Vars, variables};
use super::{ConfigError, Environment};

variables! {
    PORT,
    BIND_ADDR,
    /// The public URL of the site: links in emails and redirects are built from it.
    BASE_URL,
}

const PORT_EXPECTED: &str = "a TCP port number from 1 to 65535";

/// The listening address and the public URL.
#[derive(Debug, Clone)]
pub struct Server {
    pub bind_addr: IpAddr,
    pub port: u16,
    pub base_url: Url,
}

impl Server {
    pub fn parse(vars: Vars, environment: Environment, errors: &mut Errors) -> Self {
        let production = environment == Environment::Production;
        let mut port = errors.parse_or(vars, PORT, 8000u16, PORT_EXPECTED);
        if port == 0 {
            errors.push(ConfigError::new(PORT, "0", PORT_EXPECTED));
            port = 8000;
        }
        // Production listens on every interface (the platform's router is in front); a
        // development machine only on its own.
        let default_bind = if production {
            Ipv4Addr::UNSPECIFIED
        } else {
            Ipv4Addr::LOCALHOST
        };
        let bind_addr = errors.parse_or(
            vars,
            BIND_ADDR,
            IpAddr::V4(default_bind),
            "an IP address such as 0.0.0.0 or 127.0.0.1",
        );
        let local =
            || Url::parse(&format!("http://localhost:{port}")).expect("a literal URL with a port");
        let base_url = match vars.get(BASE_URL) {
            Some(raw) => Url::parse(raw)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
                .unwrap_or_else(|| {
                    errors.push(ConfigError::new(
                        BASE_URL,
                        raw,
                        "an absolute http(s) URL such as https://tickets.example.com",
                    ));
                    local()
                }),
            None if production => {
                errors.push(ConfigError::new(
                    BASE_URL,
                    "",
                    "the public https URL of the site (required in production)",
                ));
                local()
            }
            None => local(),
        };
        Self {
            bind_addr,
            port,
            base_url,
        }
    }
}
