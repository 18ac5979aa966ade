//! The frame of every dashboard page, and its error page.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};
use qbench_domain::Caller;
use qbench_report::STYLE;

use crate::api::problem::ApiError;

/// What a dashboard page may use: its inline style, pictures in `data:` URLs, forms to itself.
pub(crate) const PAGE_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'";

/// Whether `path` is a dashboard page (authenticated like the API, but answered in HTML).
pub fn is_dashboard_path(path: &str) -> bool {
    path == "/" || path.starts_with("/ui/")
}

/// A page titled `title` around `body`, with the navigation; `refresh` reloads it every that many
/// seconds (pages showing runs in progress).
pub(crate) fn page(
    status: StatusCode,
    title: &str,
    caller: Option<&Caller>,
    refresh: Option<u32>,
    body: Markup,
) -> HttpResponse {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(seconds) = refresh { meta http-equiv="refresh" content=(seconds); }
                link rel="icon" href="data:,";
                title { (title) " · qbench" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header.top { nav {
                    a.brand href="/" { "qbench" }
                    a href="/" { "Runs" }
                    a href="/ui/experiments" { "Datasets & experiments" }
                    a href="/ui/studies" { "Studies" }
                    a href="/ui/compare" { "Compare" }
                    a href="/docs" { "API" }
                    @if let Some(caller) = caller {
                        span.muted style="margin-left:auto;color:#c9d1e0" { (caller.user()) }
                        @if caller.user() != Caller::DEVELOPMENT_USER {
                            form method="post" action="/ui/logout" style="margin:0" { button type="submit" { "Sign out" } }
                        }
                    }
                } }
                main { (body) }
            }
        }
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", PAGE_POLICY))
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

/// An error as a page: its status, title and detail.
pub(crate) fn error_page(error: ApiError, caller: Option<&Caller>) -> HttpResponse {
    let problem = error.problem();
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    page(
        status,
        &problem.title,
        caller,
        None,
        html! {
            h1 { (problem.title) }
            p.problem { (problem.detail) }
            p { a href="/" { "Back to the runs" } }
        },
    )
}

/// A run's status as a badge.
pub(crate) fn badge(status: &str) -> Markup {
    html! { span.badge.(status) { (status) } }
}
