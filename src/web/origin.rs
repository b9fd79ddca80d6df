//! Which other origins the JSON API trusts (`CORS_ALLOWED_ORIGINS`).
//!
//! Both the CORS layer (which origins get CORS answers) and the CSRF check (which
//! cross-origin API calls are not forgeries) must read the configured list the same way;
//! they share this module rather than importing each other.

/// The configured origins that are honoured: trimmed, and never `*`, which with
/// credentials would hand every web site the visitor's session.
pub fn allowed_api_origins(configured: &[String]) -> impl Iterator<Item = &str> {
    configured.iter().map(|o| o.trim()).filter(|o| *o != "*")
}

/// Whether a request to `path` from `origin` comes from one of the allowed front-ends (the
/// CSRF check lets those through for the API, as CORS already does).
pub fn is_allowed_api_origin(path: &str, origin: Option<&str>, configured: &[String]) -> bool {
    path.starts_with("/api/")
        && origin.is_some_and(|origin| allowed_api_origins(configured).any(|a| a == origin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_origins_on_the_api_are_allowed_and_never_a_wildcard() {
        let configured = vec![" https://app.example.com ".to_owned(), "*".to_owned()];
        let allowed = |path, origin| is_allowed_api_origin(path, origin, &configured);
        assert!(allowed("/api/v1/movies", Some("https://app.example.com")));
        assert!(!allowed("/movies", Some("https://app.example.com")));
        assert!(!allowed("/api/v1/movies", Some("https://evil.example")));
        assert!(!allowed("/api/v1/movies", Some("*")));
        assert!(!allowed("/api/v1/movies", None));
    }
}
