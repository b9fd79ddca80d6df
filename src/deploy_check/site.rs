//! The site's own address and the browsers' protections: allowed hosts, BASE_URL, HSTS,
//! CORS, and the proxies trusted with the client's address.

use url::Url;

use super::Findings;
use crate::config::redact_url;
use crate::config::security::{
    ALLOWED_HOSTS, CORS_ALLOWED_ORIGINS, HSTS_SECONDS, TRUSTED_PROXY_HOPS,
};
use crate::config::server::BASE_URL;

const ONE_DAY: u64 = 86_400;

/// `BASE_URL` is judged as written (production wants https where the application accepts
/// http too); the hosts are the list the application will use.
pub(super) fn check_hosts(base_url: Option<&str>, allowed: &[String], out: &mut Findings) {
    if allowed.is_empty() {
        out.add(
            "MB-E010",
            ALLOWED_HOSTS,
            "ALLOWED_HOSTS is empty, so every request would be refused with 400.".into(),
            "Set ALLOWED_HOSTS to the public host name(s), e.g. ALLOWED_HOSTS=tickets.example.com.",
        );
    }
    if allowed.iter().any(|h| h.contains('*')) {
        out.add(
            "MB-E011",
            ALLOWED_HOSTS,
            "ALLOWED_HOSTS contains `*`: any Host header is accepted, which enables cache poisoning and forged links.".into(),
            "List the exact host names (a leading dot, `.example.com`, allows subdomains).",
        );
    }
    let parsed = base_url.and_then(|raw| Url::parse(raw).ok());
    match (&parsed, base_url) {
        (Some(url), _) if url.scheme() == "https" && url.host_str().is_some() => {}
        (_, raw) => out.add(
            "MB-E012",
            BASE_URL,
            match raw {
                None => "BASE_URL is not set; links in emails and redirects are built from it.".into(),
                Some(raw) => format!(
                    "BASE_URL {:?} is not an https URL; HTTPS redirects and emailed links would use it.",
                    redact_url(raw)
                ),
            },
            "Set BASE_URL to the public https URL, e.g. BASE_URL=https://tickets.example.com.",
        ),
    }
    if let Some(host) = parsed.as_ref().and_then(|u| u.host_str())
        && !allowed.is_empty()
        && !crate::web::middleware::host_allowed(host, allowed)
    {
        out.add(
            "MB-E013",
            ALLOWED_HOSTS,
            format!("the host of BASE_URL ({host}) is not in ALLOWED_HOSTS, so the site would refuse its own address."),
            "Add the host of BASE_URL to ALLOWED_HOSTS.",
        );
    }
}

pub(super) fn check_hsts(seconds: u64, out: &mut Findings) {
    if seconds == 0 {
        out.add(
            "MB-E020",
            HSTS_SECONDS,
            "HSTS is off, so a browser may reach the site over plain HTTP where it can be intercepted.".into(),
            "Unset HSTS_SECONDS (one year) or set it to at least 86400; start low while testing HTTPS, then raise it.",
        );
    } else if seconds < ONE_DAY {
        out.add(
            "MB-W021",
            HSTS_SECONDS,
            format!("HSTS lasts only {seconds} seconds."),
            "Raise HSTS_SECONDS to 31536000 (one year) once HTTPS works everywhere.",
        );
    }
}

/// `hops` is `None` when the variable is unset (a refused value is reported as such).
pub(super) fn check_proxies(hops: Option<usize>, out: &mut Findings) {
    match hops {
        None => out.add(
            "MB-E070",
            TRUSTED_PROXY_HOPS,
            "TRUSTED_PROXY_HOPS is not set. Rate limits, login throttling and logs key on the client's address, which depends on how many proxies append to X-Forwarded-For: trusting one that is not there lets every client forge its address, trusting none behind a router gives everyone the router's.".into(),
            "Set it explicitly: TRUSTED_PROXY_HOPS=1 on Heroku and Railway (their router appends one entry; add one per CDN or load balancer in front), TRUSTED_PROXY_HOPS=0 when clients connect straight to the app.",
        ),
        Some(0) => out.add(
            "MB-W070",
            TRUSTED_PROXY_HOPS,
            "TRUSTED_PROXY_HOPS=0: right when clients connect straight to the app; behind a platform router every client would get the router's address, so rate limits would lock everyone out together.".into(),
            "Keep 0 only without a proxy; set TRUSTED_PROXY_HOPS=1 on Heroku and Railway (one more per CDN in front).",
        ),
        Some(_) => {}
    }
}

pub(super) fn check_cors(origins: &[String], out: &mut Findings) {
    if origins.iter().any(|o| o == "*") {
        out.add(
            "MB-E100",
            CORS_ALLOWED_ORIGINS,
            "CORS_ALLOWED_ORIGINS contains `*`: any web site could call the JSON API.".into(),
            "List the exact origins of your own front-ends, e.g. https://app.example.com.",
        );
    }
    for origin in origins.iter().filter(|o| *o != "*") {
        let is_origin = Url::parse(origin).ok().is_some_and(|u| {
            u.scheme() == "https"
                && u.host_str().is_some()
                && u.path() == "/"
                && u.query().is_none()
                && !origin.ends_with('/')
        });
        if !is_origin {
            out.add(
                "MB-W101",
                CORS_ALLOWED_ORIGINS,
                format!("{origin:?} is not an https origin (scheme://host[:port], no path), so it never matches a browser's Origin header."),
                "Write each origin exactly as the browser sends it, e.g. https://app.example.com.",
            );
        }
    }
}
