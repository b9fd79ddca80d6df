//! Cross-cutting HTTP behaviour: security headers, host and HTTPS enforcement, request ids,
//! refusing NUL characters in input, and turning every error response into a page or a JSON
//! body depending on the route.

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use crate::web::csrf::BodyKind;
use crate::web::templates::ErrorPage;

/// Origins that Razorpay Checkout loads from and talks to; nothing else is allowed.
const CSP: &str = "default-src 'self'; \
    script-src 'self' https://checkout.razorpay.com; \
    style-src 'self'; \
    img-src 'self' data: https://*.razorpay.com; \
    font-src 'self'; \
    connect-src 'self' https://api.razorpay.com https://lumberjack.razorpay.com; \
    frame-src https://api.razorpay.com https://checkout.razorpay.com; \
    frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

/// Request ids: 16 random bytes in hex, unless a trusted proxy already set a safe one
/// (`untrusted_request_id` removes any other).
#[derive(Clone, Default)]
pub struct MakeHexRequestId;

impl MakeRequestId for MakeHexRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id: [u8; 16] = rand::random();
        HeaderValue::from_str(&hex::encode(id))
            .ok()
            .map(RequestId::new)
    }
}

/// The longest request id taken from a proxy.
const REQUEST_ID_MAX: usize = 64;

/// Whether a request id set by a proxy is of a shape safe to log and echo.
pub fn is_safe_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= REQUEST_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Drops an `X-Request-Id` the app must not trust, so that `SetRequestIdLayer` makes one:
/// a client reaching the app directly (`TRUSTED_PROXY_HOPS=0`) could otherwise forge the
/// id under which its requests are logged, and any id of another shape could smuggle text
/// into logs, headers and error pages. Behind a trusted proxy, the platform router's id is
/// kept so that its logs and ours correlate.
pub async fn untrusted_request_id(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let keep = state.config.trusted_proxy_hops > 0 && {
        let mut values = request.headers().get_all("x-request-id").iter();
        match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().is_ok_and(is_safe_request_id),
            _ => false,
        }
    };
    if !keep {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// Headers every response carries.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        if !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(headers, "content-security-policy", CSP);
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "x-frame-options", "DENY");
    set(
        headers,
        "referrer-policy",
        "strict-origin-when-cross-origin",
    );
    // Razorpay Checkout opens popups (UPI apps, 3-D Secure) that must keep their opener.
    set(
        headers,
        "cross-origin-opener-policy",
        "same-origin-allow-popups",
    );
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(self \"https://api.razorpay.com\")",
    );
    if state.config.is_production()
        && state.config.hsts_seconds > 0
        && let Ok(value) = HeaderValue::from_str(&format!(
            "max-age={}; includeSubDomains",
            state.config.hsts_seconds
        ))
    {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
    headers.remove(header::SERVER);
    response
}

/// Refuses requests for hosts we do not serve (they would otherwise be a way to poison
/// caches or links) and, in production, sends plain-HTTP requests to HTTPS.
pub async fn host_and_https(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    // Platform health checks come from inside and may use any host.
    let is_probe = matches!(request.uri().path(), "/healthz" | "/readyz");
    if !is_probe && !host_allowed(&host, &state.config.allowed_hosts) {
        return AppError::bad_request("This site is not served at that address.").into_response();
    }
    if state.config.is_production() && !is_probe {
        let proto = request
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next_back())
            .map(str::trim);
        if proto == Some("http") {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            // 301, as browsers and crawlers expect for the move to HTTPS.
            return match HeaderValue::from_str(&state.config.absolute_url(path)) {
                Ok(target) => {
                    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, target)]).into_response()
                }
                Err(_) => AppError::bad_request("That address is not valid.").into_response(),
            };
        }
    }
    next.run(request).await
}

/// Whether `host` (with or without a port) is one of the allowed names. A leading dot
/// allows subdomains, as in Django's ALLOWED_HOSTS; `*` allows all. A Host header that is
/// not exactly a name or bracketed IPv6 address with an optional numeric port is refused.
pub fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let Some(name) = host_name(host) else {
        return false;
    };
    allowed.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        pattern == "*"
            || pattern == name
            || (pattern.starts_with('.') && (name.ends_with(&pattern) || name == pattern[1..]))
    })
}

/// The host name of a Host header value, lower-cased, without its port: `name[:port]` or
/// `[IPv6][:port]`. Anything else (text after `]`, a second colon, a port that is not a
/// number, characters no host name has) is None.
fn host_name(host: &str) -> Option<String> {
    fn valid_port(port: &str) -> bool {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    }
    let name = if let Some(rest) = host.strip_prefix('[') {
        let (address, after) = rest.split_once(']')?;
        address.parse::<std::net::Ipv6Addr>().ok()?;
        match after.strip_prefix(':') {
            None if after.is_empty() => {}
            Some(port) if valid_port(port) => {}
            _ => return None,
        }
        &host[..address.len() + 2]
    } else {
        let name = match host.split_once(':') {
            Some((name, port)) if valid_port(port) => name,
            Some(_) => return None,
            None => host,
        };
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_');
        if !name.bytes().all(allowed) {
            return None;
        }
        name
    };
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// Routes whose input `refuse_nul` leaves alone: the Razorpay callback and webhook (their
/// bodies are Razorpay's, checked byte for byte against a signature, and a refused webhook
/// would only be retried), and the door scanners, which answer any unreadable code as an
/// invalid ticket and store none of it.
const NUL_EXEMPT_PATHS: &[&str] = &[
    "/payments/razorpay/callback",
    "/payments/razorpay/webhook",
    "/api/v1/checkin",
    "/api/v1/checkin/sync",
];

/// Refuses a query string, form body or JSON body that carries a NUL character, with the
/// same 400 on both engines. PostgreSQL cannot store NUL in text and SQLite can, so without
/// this check the same input was refused on one engine and saved on the other. The body is
/// read once (within `DefaultBodyLimit`) and handed on unchanged; multipart bodies (binary
/// uploads, where NUL bytes are normal) and path segments (answered 404 by the id
/// extractors) are not inspected here, and `db::is_unstorable_text` stays as the backstop.
pub async fn refuse_nul(request: Request, next: Next) -> Response {
    if NUL_EXEMPT_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    if request
        .uri()
        .query()
        .is_some_and(|query| form_has_nul(query.as_bytes()))
    {
        return nul_refused();
    }
    let kind = BodyKind::of(request.headers());
    if !matches!(kind, BodyKind::Form | BodyKind::Json) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => bytes,
        Err(rejection) => return rejection.into_response(),
    };
    let has_nul = match kind {
        BodyKind::Form => form_has_nul(&bytes),
        _ => json_has_nul(&bytes),
    };
    if has_nul {
        return nul_refused();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn nul_refused() -> Response {
    AppError::bad_request(crate::db::UNSTORABLE_TEXT_MESSAGE).into_response()
}

/// Whether a urlencoded form or query string decodes to a name or value holding NUL
/// (`%00`, or a raw zero byte).
fn form_has_nul(encoded: &[u8]) -> bool {
    form_urlencoded::parse(encoded).any(|(name, value)| name.contains('\0') || value.contains('\0'))
}

/// Whether a JSON text holds NUL in a string: the escape `\u0000`, or a raw zero byte
/// (which JSON does not allow at all). Escapes are stepped over in pairs so that an escaped
/// backslash followed by `u0000` (the six characters, not NUL) is not mistaken for one.
fn json_has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&byte) = json.get(i) {
        match byte {
            0 => return true,
            b'\\' if json.get(i + 1..i + 6).is_some_and(|s| s == b"u0000") => return true,
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    false
}

/// Renders every error response in the format of its route: JSON under `/api/`, an HTML
/// page elsewhere. Errors from extractors, the router's fallback, the body limit and the
/// timeout arrive as bare status codes or plain text and get the same treatment. A handler
/// that answers an error status with its own HTML page or JSON body (a form shown again
/// with its mistakes, a seat map with a message) is left as it is.
pub async fn error_pages(request: Request, next: Next) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let already_rendered = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/json"));
    if already_rendered && response.extensions().get::<ErrorBody>().is_none() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let mut status = status;
    let error = match parts.extensions.remove::<ErrorBody>() {
        Some(error) => error,
        None => {
            // A framework rejection: its plain-text body is a safe, useful message for 4xx.
            let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
            let text = String::from_utf8_lossy(&text).trim().to_owned();
            if status == StatusCode::INTERNAL_SERVER_ERROR && text.is_empty() {
                // Our handlers, the panic catcher and the timeout all answer with a body or
                // an ErrorBody; an empty 500 is tower-sessions failing to save the session
                // after the handler ran, i.e. the database out of reach: say 503, retry.
                status = StatusCode::SERVICE_UNAVAILABLE;
                parts.status = status;
            }
            generic_error(status, text)
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    if is_api {
        let mut json = serde_json::json!({ "error": error.code, "message": error.message });
        if !error.fields.is_empty() {
            json["fields"] = serde_json::to_value(&error.fields).unwrap_or_default();
        }
        if let Some(serde_json::Value::Object(details)) = error.details {
            for (k, v) in details {
                json[k] = v;
            }
        }
        let mut response = axum::Json(json).into_response();
        *response.status_mut() = status;
        response.headers_mut().extend(parts.headers);
        response
    } else {
        let page = ErrorPage {
            status: status.as_u16(),
            title: title_for(status),
            message: error.message,
            request_id,
            page: Default::default(),
        };
        let html = askama::Template::render(&page).unwrap_or_else(|_| {
            "<!doctype html><title>Error</title><p>Something went wrong.</p>".to_owned()
        });
        let mut response = Response::from_parts(parts, Body::from(html));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }
}

fn generic_error(status: StatusCode, text: String) -> ErrorBody {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (
            "not_found",
            "The page or item you asked for does not exist.".to_owned(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "That action is not available here.".to_owned(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "What you sent is too large.".to_owned(),
        ),
        StatusCode::REQUEST_TIMEOUT
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => (
            "unavailable",
            "The service is busy or briefly unavailable. Please try again in a moment.".to_owned(),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            if text.is_empty() {
                "Unsupported content type.".to_owned()
            } else {
                text
            },
        ),
        s if s.is_client_error() => (
            if s == StatusCode::UNPROCESSABLE_ENTITY {
                "invalid_input"
            } else {
                "bad_request"
            },
            if text.is_empty() {
                "The request could not be understood.".to_owned()
            } else {
                text
            },
        ),
        _ => (
            "internal_error",
            "Something went wrong on our side. Please try again.".to_owned(),
        ),
    };
    ErrorBody {
        code: code.to_owned(),
        message,
        fields: Default::default(),
        details: None,
    }
}

fn title_for(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "Page not found".into(),
        StatusCode::FORBIDDEN => "Not allowed".into(),
        StatusCode::UNAUTHORIZED => "Please log in".into(),
        StatusCode::TOO_MANY_REQUESTS => "Slow down".into(),
        StatusCode::CONFLICT => "Already taken".into(),
        s if s.is_server_error() => "Something went wrong".into(),
        _ => "We could not do that".into(),
    }
}

/// The response given when a handler panics: the process stays up, the client gets the
/// generic error page (rendered by `error_pages`), and the panic is logged and reported.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = detail, "a request handler panicked");
    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_generic_500_that_reveals_nothing() {
        for payload in [
            Box::new("index out of bounds: secret detail") as Box<dyn std::any::Any + Send>,
            Box::new(String::from("formatted secret detail")),
            Box::new(42_u8),
        ] {
            let response = panic_response(payload);
            assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
            let body = response
                .extensions()
                .get::<ErrorBody>()
                .expect("rendered later by error_pages");
            assert_eq!(body.code, "internal_error");
            assert!(!body.message.contains("secret"), "{}", body.message);
        }
    }

    #[tokio::test]
    async fn an_empty_500_from_a_failed_session_save_is_told_as_503() {
        use tower::ServiceExt;
        let app = axum::Router::new()
            .route(
                "/api/v1/x",
                axum::routing::get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
            )
            .route(
                "/broken",
                axum::routing::get(|| async {
                    AppError::Internal(anyhow::anyhow!("a bug")).into_response()
                }),
            )
            .layer(axum::middleware::from_fn(error_pages));
        let call = |path: &'static str| {
            let app = app.clone();
            async move {
                app.oneshot(Request::get(path).body(Body::empty()).unwrap())
                    .await
                    .unwrap()
            }
        };
        let response = call("/api/v1/x").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("\"unavailable\""));
        // A real failure inside a handler stays a 500.
        assert_eq!(
            call("/broken").await.status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn hosts_match_exactly_or_by_subdomain_pattern() {
        let allowed = vec!["tickets.example.com".to_owned(), ".example.org".to_owned()];
        assert!(host_allowed("tickets.example.com", &allowed));
        assert!(host_allowed("TICKETS.example.com:443", &allowed));
        assert!(host_allowed("a.example.org", &allowed));
        assert!(host_allowed("example.org", &allowed));
        assert!(!host_allowed("evil.com", &allowed));
        assert!(!host_allowed("notexample.org", &allowed));
        assert!(!host_allowed("", &allowed));
        assert!(host_allowed("[::1]:8000", &["[::1]".to_owned()]));
    }

    #[test]
    fn nul_is_found_in_forms_and_json_strings() {
        assert!(form_has_nul(b"name=Pu%00ne&slug=pune"));
        assert!(form_has_nul(b"na%00me=x"));
        assert!(form_has_nul(b"name=Pu\0ne"));
        assert!(!form_has_nul(b"name=Pune&note=100%25"));
        assert!(json_has_nul(br#"{"name":"Pu\u0000ne"}"#));
        assert!(json_has_nul(b"{\"name\":\"Pu\0ne\"}"));
        assert!(
            !json_has_nul(br#"{"name":"a\\u0000"}"#),
            "an escaped backslash"
        );
        assert!(json_has_nul(br#"{"name":"a\\\u0000"}"#));
        assert!(!json_has_nul(br#"{"name":"\u0041"}"#));
        assert!(!json_has_nul(br#"{"a":"\"","b":1}"#));
    }

    #[test]
    fn only_plain_short_request_ids_are_safe() {
        assert!(is_safe_request_id("3f2a9c1e-7b4d-4e8a-9c6f-0a1b2c3d4e5f"));
        assert!(is_safe_request_id("req_1.2-3"));
        assert!(!is_safe_request_id(""));
        assert!(!is_safe_request_id(&"a".repeat(65)));
        for bad in ["a b", "a\"b", "<script>", "id\r\nX-Evil: 1", "ü"] {
            assert!(!is_safe_request_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_host_header_is_parsed_strictly() {
        let dev = vec!["localhost".to_owned(), "[::1]".to_owned()];
        assert!(host_allowed("[::1]", &dev));
        assert!(host_allowed("[::1]:8000", &dev));
        for forged in [
            "[::1].evil.com",
            "[::1]evil.com",
            "[::1]:8000.evil.com",
            "[::1]:80:80",
            "[::1",
            "[evil.com]",
            "localhost:80:80",
            "localhost:http",
            "localhost/evil",
            "localhost@evil.com",
            "evil.com#localhost",
            ":8000",
        ] {
            assert!(!host_allowed(forged, &dev), "{forged}");
            assert!(
                !host_allowed(forged, &["*".to_owned()]) || forged.is_empty(),
                "{forged} is not a host even where any host is allowed"
            );
        }
    }
}
