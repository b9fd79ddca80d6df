//! The home page.

use askama::Template;
use axum::response::Html;

use crate::error::AppResult;
use crate::web::page::Page;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    page: Page,
}

pub async fn show(page: Page) -> AppResult<Html<String>> {
    Ok(Html(HomePage { page }.render()?))
}
