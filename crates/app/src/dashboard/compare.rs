//! `GET /ui/compare?ids=…`: two to four runs side by side, every setting's figures and the
//! settings that differ ("differences only" hides the rest).

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use maud::html;
use qbench_domain::{Caller, RunId};
use qbench_report::{ReportRun, run_sections};
use uuid::Uuid;

use crate::api::problem::ApiError;
use crate::auth::Authenticated;
use crate::dashboard::page::{error_page, page};
use crate::state::AppState;

/// Runs compared at most.
const MAX_COMPARED: usize = 4;

/// The compare page.
async fn render(state: &AppState, caller: &Caller, request: &HttpRequest) -> Result<HttpResponse, ApiError> {
    // `ids` repeated (the runs list's checkboxes) or comma-separated (a link).
    let ids: Vec<String> = url::form_urlencoded::parse(request.query_string().as_bytes())
        .filter(|(key, _)| key == "ids")
        .flat_map(|(_, value)| {
            value.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect::<Vec<_>>()
        })
        .collect();
    if ids.is_empty() {
        return Ok(page(
            StatusCode::OK,
            "Compare runs",
            Some(caller),
            None,
            html! {
                h1 { "Compare runs" }
                p { "Pick two to four completed runs on the " a href="/" { "runs page" } " and press “Compare selected”." }
            },
        ));
    }
    if !(2..=MAX_COMPARED).contains(&ids.len()) {
        return Err(ApiError::bad_parameter("ids", format!("{} runs given; compare 2 to {MAX_COMPARED}", ids.len())));
    }
    let mut runs = Vec::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        let field = format!("ids[{index}]");
        let uuid = Uuid::parse_str(id).map_err(|_| ApiError::bad_parameter(&field, format!("`{id}` is not a UUID")))?;
        let run = state.runs.get(caller, RunId::from(uuid)).await?;
        let report = run.report().ok_or_else(|| {
            ApiError::bad_parameter(&field, format!("run {id} is {}: it has no results yet", run.status()))
        })?;
        runs.push(ReportRun::of(&run, report));
    }
    let sections = run_sections(&runs).map_err(|error| ApiError::internal(&error))?;
    Ok(page(
        StatusCode::OK,
        "Compare runs",
        Some(caller),
        None,
        html! {
            h1 { "Compare " (runs.len()) " runs" }
            (sections.summary)
            (sections.charts)
            (sections.tables)
        },
    ))
}

/// `GET /ui/compare`.
pub(crate) async fn show(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    request: HttpRequest,
) -> HttpResponse {
    match render(&state, &caller, &request).await {
        Ok(response) => response,
        Err(error) => error_page(error, Some(&caller)),
    }
}
