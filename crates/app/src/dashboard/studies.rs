//! The studies: a list, and one study's page (its fronts, its trials, the recommendation with the
//! Qdrant JSON to copy).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use maud::html;
use qbench_domain::study::{StudyPayload, StudyReport};
use qbench_domain::{Caller, Job, JobId, JobKind};
use qbench_report::study_body;
use qbench_repository::{JobFilter, Page};
use uuid::Uuid;

use crate::api::problem::ApiError;
use crate::auth::Authenticated;
use crate::dashboard::page::{badge, error_page, page};
use crate::state::AppState;

fn name(job: &Job) -> String {
    serde_json::from_value::<StudyPayload>(job.payload().clone()).map_or_else(|_| job.id().to_string(), |p| p.spec.name)
}

/// `GET /ui/studies`.
pub(crate) async fn list(state: Data<AppState>, Authenticated(caller): Authenticated) -> HttpResponse {
    match list_page(&state, &caller).await {
        Ok(response) => response,
        Err(error) => error_page(error, Some(&caller)),
    }
}

async fn list_page(state: &AppState, caller: &Caller) -> Result<HttpResponse, ApiError> {
    let filter = JobFilter { kind: Some(JobKind::Study), ..JobFilter::default() };
    let listed = state.jobs.list(caller, filter, false, Page { limit: 100, offset: 0 }).await?;
    let active = listed.items.iter().any(|job| !job.status().is_terminal());
    Ok(page(
        StatusCode::OK,
        "Studies",
        Some(caller),
        active.then_some(3),
        html! {
            h1 { "Studies" }
            p.muted { "Start one with " code { "POST /api/v1/studies" } " or " code { "qbench tune" } "." }
            div.table-wrap { table.studies {
                thead { tr { th { "study" } th { "status" } th { "progress" } th { "created" } } }
                tbody { @for job in &listed.items {
                    tr data-study=(job.id()) {
                        td { a href={ "/ui/studies/" (job.id()) } { (name(job)) } }
                        td { (badge(job.status().as_str())) }
                        td { (job.progress().phase) " " (job.progress().done) @if let Some(total) = job.progress().total { " of " (total) } }
                        td { (job.created_at().format("%Y-%m-%d %H:%M")) }
                    }
                } }
            } }
        },
    ))
}

/// `GET /ui/studies/{id}`.
pub(crate) async fn detail(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<Uuid>,
) -> HttpResponse {
    match detail_page(&state, &caller, JobId::from(path.into_inner())).await {
        Ok(response) => response,
        Err(error) => error_page(error, Some(&caller)),
    }
}

async fn detail_page(state: &AppState, caller: &Caller, id: JobId) -> Result<HttpResponse, ApiError> {
    let job = state.studies.get(caller, id).await?;
    let report = job.result().and_then(|result| serde_json::from_value::<StudyReport>(result.clone()).ok());
    let body = match &report {
        Some(report) => Some(study_body(report).map_err(|error| ApiError::internal(&error))?),
        None => None,
    };
    let active = !job.status().is_terminal();
    let title = format!("Study {}", name(&job));
    Ok(page(
        StatusCode::OK,
        &title,
        Some(caller),
        active.then_some(3),
        html! {
            h1 { (title) " " (badge(job.status().as_str())) }
            p.muted { code { (id) } " · " a href={ "/?study_id=" (id) } { "its trial runs" } }
            @if active { p { "trial " (job.progress().done) @if let Some(total) = job.progress().total { " of " (total) } ": " (job.progress().phase) } }
            @if let Some(error) = job.error() { p.problem { (error) } }
            @if let Some(body) = body { (body) }
        },
    ))
}
