//! Template structs shared across areas (the error page) and helpers the layout calls.

use askama::Template;

use crate::web::page::Page;

/// The error page, rendered by `middleware::error_pages` for every HTML error response.
#[derive(Template)]
#[template(path = "errors/error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub title: String,
    pub message: String,
    pub request_id: String,
    pub page: Page,
}

/// The cache-busting URL of a static file (see `static_files`).
pub fn asset(path: &str) -> String {
    crate::web::static_files::url(path)
}
