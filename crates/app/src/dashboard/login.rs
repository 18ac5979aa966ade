//! Signing in to the dashboard with a token (an API key or a JWT): checked like an API request's,
//! then kept in an HTTP-only, same-site cookie that the authentication middleware reads on
//! dashboard pages only. Behind an identity-aware proxy, or with authentication off, no sign-in
//! is needed.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, HeaderMap, HeaderValue, LOCATION};
use actix_web::web::{Data, Form, Query};
use actix_web::{HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use crate::dashboard::page::page;
use crate::state::AppState;

/// The cookie holding the dashboard's token.
pub const SESSION_COOKIE: &str = "qbench_session";

/// Where to go after signing in.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    next: String,
}

/// The sign-in form.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: String,
}

/// `next` when it is a path of this server (never another site).
fn local(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') { next } else { "/" }
}

fn form_page(status: StatusCode, next: &str, error: Option<&str>, development: bool) -> HttpResponse {
    page(
        status,
        "Sign in",
        None,
        None,
        html! {
            h1 { "Sign in" }
            @if development {
                p { "Authentication is off on this server (" code { "auth.mode = none" } "): " a href="/" { "go to the runs" } "." }
            } @else {
                p { "Paste an API key (" code { "qb_…" } ", from " code { "qbench admin api-key create" } ") or a bearer token. It is kept in a cookie only this site's pages send." }
                form.stack method="post" action="/ui/login" {
                    input type="hidden" name="next" value=(next);
                    label { "Token" input type="password" name="token" autocomplete="off";
                        @if let Some(error) = error { span.field-error data-field="token" { (error) } } }
                    div { button type="submit" { "Sign in" } }
                }
            }
        },
    )
}

/// `GET /ui/login`.
pub(crate) async fn form(state: Data<AppState>, query: Query<Next>) -> HttpResponse {
    form_page(StatusCode::OK, local(&query.next), None, state.auth.is_development())
}

/// `POST /ui/login`: checks the token, keeps it, goes on.
pub(crate) async fn submit(state: Data<AppState>, request: HttpRequest, form: Form<LoginForm>) -> HttpResponse {
    let next = local(&form.next).to_owned();
    let token = form.token.trim();
    let mut headers = HeaderMap::new();
    let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) else {
        return form_page(StatusCode::UNAUTHORIZED, &next, Some("not a token"), false);
    };
    headers.insert(AUTHORIZATION, value);
    let peer = request.peer_addr().map(|address| address.ip());
    match state.auth.identify(&headers, peer).await {
        Ok(_) => {
            let secure = request.connection_info().scheme() == "https";
            let cookie = Cookie::build(SESSION_COOKIE, token.to_owned())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(secure)
                .finish();
            HttpResponse::SeeOther().cookie(cookie).insert_header((LOCATION, next)).finish()
        }
        Err(error) => form_page(StatusCode::UNAUTHORIZED, &next, Some(&error.to_string()), false),
    }
}

/// `POST /ui/logout`: forgets the token.
pub(crate) async fn logout() -> HttpResponse {
    let mut cookie = Cookie::build(SESSION_COOKIE, "").path("/").http_only(true).same_site(SameSite::Strict).finish();
    cookie.make_removal();
    HttpResponse::SeeOther().cookie(cookie).insert_header((LOCATION, "/ui/login")).finish()
}
