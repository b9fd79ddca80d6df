//! Cross-site request forgery protection for every state-changing request.
//!
//! Two independent checks, so that one missing browser feature does not open a hole:
//! 1. Fetch metadata and origin: a browser marks cross-site requests (`Sec-Fetch-Site`) and
//!    names their `Origin`; anything not from our own origin is refused.
//! 2. A secret token (double-submit): a random value in an HttpOnly cookie that every HTML
//!    form echoes back in a hidden `csrf_token` field, masked afresh on every render so that
//!    compression cannot leak it (BREACH). JSON API calls carry no token: they are covered by
//!    check 1, by their `application/json` body (which a cross-site page cannot send without
//!    a CORS pre-flight we refuse) and by the SameSite=Lax session cookie. Only `/api/`
//!    takes JSON: every other route needs the form token, and a body that is neither a form
//!    nor multipart is refused with 415 before any handler can act on it.
//!
//! The Razorpay callback and webhook are exempt: they arrive cross-site by design and are
//! authenticated by their HMAC signatures instead.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use url::Url;

use crate::error::AppError;
use crate::state::AppState;

/// Routes that authenticate themselves by signature and must accept cross-site POSTs.
pub const EXEMPT_PATHS: &[&str] = &["/payments/razorpay/callback", "/payments/razorpay/webhook"];

/// The name of the hidden form field that carries the token.
pub const FORM_FIELD: &str = "csrf_token";
/// The header that may carry the token instead (JavaScript and multipart uploads).
pub const HEADER: &str = "x-csrf-token";

const TOKEN_BYTES: usize = 32;

/// This request's CSRF secret, available to handlers that render forms.
#[derive(Debug, Clone)]
pub struct CsrfToken {
    secret: [u8; TOKEN_BYTES],
}

impl CsrfToken {
    fn generate() -> Self {
        Self {
            secret: rand::random(),
        }
    }

    fn from_cookie(value: &str) -> Option<Self> {
        let bytes = hex::decode(value).ok()?;
        Some(Self {
            secret: bytes.try_into().ok()?,
        })
    }

    fn cookie_value(&self) -> String {
        hex::encode(self.secret)
    }

    /// A masked copy of the token for one form: a random pad followed by pad XOR secret.
    pub fn form_value(&self) -> String {
        let pad: [u8; TOKEN_BYTES] = rand::random();
        let mut out = Vec::with_capacity(TOKEN_BYTES * 2);
        out.extend_from_slice(&pad);
        out.extend(pad.iter().zip(self.secret.iter()).map(|(p, s)| p ^ s));
        hex::encode(out)
    }

    /// Whether a submitted (masked) form value carries this token.
    pub fn accepts(&self, submitted: &str) -> bool {
        let Ok(bytes) = hex::decode(submitted.trim()) else {
            return false;
        };
        if bytes.len() != TOKEN_BYTES * 2 {
            return false;
        }
        let (pad, masked) = bytes.split_at(TOKEN_BYTES);
        let unmasked: Vec<u8> = pad.iter().zip(masked).map(|(p, m)| p ^ m).collect();
        unmasked.ct_eq(&self.secret).into()
    }
}

/// The cookie that holds the secret; `__Host-` pins it to our exact origin in production.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-csrftoken"
    } else {
        "csrftoken"
    }
}

fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

fn refuse(message: &str) -> Response {
    AppError::Forbidden(message.to_owned()).into_response()
}

/// Whether the browser's fetch metadata or `Origin` says the request came from elsewhere.
/// `our_origin` is BASE_URL's origin (`scheme://host[:port]`).
fn is_cross_origin(headers: &HeaderMap, our_origin: &Url) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = Url::parse(origin) else {
        // `null` (a sandboxed frame, a redirect across sites) or garbage: not ours.
        return true;
    };
    if origin.origin() == our_origin.origin() {
        return false;
    }
    // Also accept the host the browser is actually on when it is the Host header (the
    // development server is reached as both localhost and 127.0.0.1), but only with
    // BASE_URL's scheme and port: `http://HOST` must never pass for an https site.
    let same_scheme_and_port = origin.scheme() == our_origin.scheme()
        && origin.port_or_known_default() == our_origin.port_or_known_default();
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_authority = match (origin.host_str(), origin.port()) {
        (Some(name), Some(port)) => format!("{name}:{port}"),
        (Some(name), None) => name.to_owned(),
        (None, _) => return true,
    };
    !(same_scheme_and_port && host.is_some_and(|h| h.eq_ignore_ascii_case(&origin_authority)))
}

/// The middleware: issues the cookie, exposes the token, and refuses forged requests.
pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let secure = state.config.secure_cookies();
    let name = cookie_name(secure);
    let existing = read_cookie(request.headers(), name).and_then(CsrfToken::from_cookie);
    let issue_cookie = existing.is_none();
    let token = existing.unwrap_or_else(CsrfToken::generate);

    let path = request.uri().path().to_owned();
    // The API's own front-ends on other origins (CORS_ALLOWED_ORIGINS) are not forgeries.
    let trusted_origin = crate::web::origin::is_allowed_api_origin(
        &path,
        request
            .headers()
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok()),
        &state.config.cors_allowed_origins,
    );
    let mut request = if is_unsafe(request.method()) && !EXEMPT_PATHS.contains(&path.as_str()) {
        match verify(request, &token, &state.config.base_url, trusted_origin).await {
            Ok(request) => request,
            Err(response) => return response,
        }
    } else {
        request
    };

    request.extensions_mut().insert(token.clone());
    let mut response = next.run(request).await;
    // Only pages carry forms. Static files, posters and JSON are cached publicly and must
    // not set a cookie.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if issue_cookie && is_page {
        let secure_attr = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{name}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31449600{secure_attr}",
            token.cookie_value()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

async fn verify(
    request: Request,
    token: &CsrfToken,
    our_origin: &Url,
    trusted_origin: bool,
) -> Result<Request, Response> {
    if !trusted_origin && is_cross_origin(request.headers(), our_origin) {
        tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
        return Err(refuse(
            "This request came from another site and was refused.",
        ));
    }
    let is_api = request.uri().path().starts_with("/api/");
    let body = BodyKind::of(request.headers());
    // Only the JSON API takes JSON, and only there does a JSON body stand in for the token
    // (a cross-site page cannot send one without a CORS pre-flight we refuse). A form
    // route given JSON, or any body that is not a form, is refused before it can act.
    match body {
        BodyKind::Json if is_api => return Ok(request),
        BodyKind::Form | BodyKind::Multipart | BodyKind::Empty => {}
        BodyKind::Json | BodyKind::Other => {
            let message = if is_api {
                "This API takes JSON bodies (Content-Type: application/json)."
            } else {
                "This address takes a form submitted from our pages, not another kind of body."
            };
            return Err(AppError::UnsupportedMediaType(message.into()).into_response());
        }
    }
    let header_token = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(submitted) = header_token {
        return if token.accepts(&submitted) {
            Ok(request)
        } else {
            Err(refuse(EXPIRED_FORM))
        };
    }
    match body {
        BodyKind::Form => {
            // Read the form to find the token, then hand the same bytes on to the handler.
            // The `Bytes` extractor honours `DefaultBodyLimit`, so an oversized form is a 413.
            let (parts, body) = request.into_parts();
            let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), &())
                .await
                .map_err(IntoResponse::into_response)?;
            let submitted = form_urlencoded::parse(&bytes)
                .find(|(k, _)| k == FORM_FIELD)
                .map(|(_, v)| v.into_owned());
            match submitted {
                Some(value) if token.accepts(&value) => {
                    Ok(Request::from_parts(parts, Body::from(bytes)))
                }
                _ => Err(refuse(EXPIRED_FORM)),
            }
        }
        BodyKind::Multipart => {
            let query_token = request.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == FORM_FIELD)
                    .map(|(_, v)| v.into_owned())
            });
            match query_token {
                Some(value) if token.accepts(&value) => Ok(request),
                _ => Err(refuse(EXPIRED_FORM)),
            }
        }
        // A body-less API call (e.g. logout) has passed the origin check; anything else
        // outside the API must come from one of our forms.
        BodyKind::Empty if is_api => Ok(request),
        _ => Err(refuse(EXPIRED_FORM)),
    }
}

/// What a request says its body is, from `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
    Multipart,
    /// No `Content-Type` at all: a body-less POST.
    Empty,
    Other,
}

impl BodyKind {
    pub fn of(headers: &HeaderMap) -> Self {
        let Some(value) = headers.get(header::CONTENT_TYPE) else {
            return Self::Empty;
        };
        let essence = value
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match essence.as_str() {
            "application/x-www-form-urlencoded" => Self::Form,
            "multipart/form-data" => Self::Multipart,
            "" => Self::Empty,
            json if json == "application/json" || json.ends_with("+json") => Self::Json,
            _ => Self::Other,
        }
    }
}

const EXPIRED_FORM: &str = "This form has expired or did not come from this site. Please go back, reload the page and try again.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_tokens_verify_and_differ_each_render() {
        let token = CsrfToken::generate();
        let a = token.form_value();
        let b = token.form_value();
        assert_ne!(a, b);
        assert!(token.accepts(&a));
        assert!(token.accepts(&b));
        assert!(!CsrfToken::generate().accepts(&a));
        assert!(!token.accepts("zz"));
        assert!(!token.accepts(&token.cookie_value()));
    }

    fn url(raw: &str) -> Url {
        Url::parse(raw).unwrap()
    }

    #[test]
    fn cross_origin_detection() {
        let dev = url("http://localhost:8000");
        let mut headers = HeaderMap::new();
        assert!(!is_cross_origin(&headers, &dev));
        headers.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(is_cross_origin(&headers, &dev));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        headers.insert(header::HOST, HeaderValue::from_static("localhost:8000"));
        assert!(is_cross_origin(&headers, &dev));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:8000"),
        );
        assert!(!is_cross_origin(&headers, &url("http://127.0.0.1:8000")));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(is_cross_origin(&headers, &dev));
    }

    #[test]
    fn an_origin_with_the_right_host_but_another_scheme_or_port_is_cross_site() {
        let site = url("https://tickets.example.com");
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("tickets.example.com"),
        );
        for (origin, cross) in [
            ("https://tickets.example.com", false),
            ("https://tickets.example.com:443", false),
            ("http://tickets.example.com", true),
            ("https://tickets.example.com:8443", true),
            ("https://evil.example", true),
        ] {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            assert_eq!(is_cross_origin(&headers, &site), cross, "{origin}");
        }
    }

    #[test]
    fn bodies_are_told_apart_by_their_media_type_essence() {
        let kind = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            BodyKind::of(&headers)
        };
        assert_eq!(BodyKind::of(&HeaderMap::new()), BodyKind::Empty);
        assert_eq!(kind("application/json; charset=utf-8"), BodyKind::Json);
        assert_eq!(kind("Application/JSON"), BodyKind::Json);
        assert_eq!(kind("application/merge-patch+json"), BodyKind::Json);
        assert_eq!(kind("application/x-www-form-urlencoded"), BodyKind::Form);
        assert_eq!(kind("multipart/form-data; boundary=x"), BodyKind::Multipart);
        assert_eq!(kind("text/plain"), BodyKind::Other);
    }
}
