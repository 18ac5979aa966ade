//! The runs: a list with live progress and filters, and one run's page (phases, figures, charts,
//! artifacts, its log).

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path, Query};
use actix_web::{HttpRequest, HttpResponse};
use maud::{Markup, html};
use qbench_domain::{Caller, ExperimentId, JobId, Run, RunId, RunStatus};
use qbench_report::format::{ms, qps, ratio};
use qbench_report::{ReportRun, run_sections};
use qbench_repository::{Page, RunFilter};
use qbench_storage::Artifact;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::artifacts::signed_url;
use crate::api::problem::ApiError;
use crate::auth::Authenticated;
use crate::dashboard::page::{badge, error_page, page};
use crate::state::AppState;

/// Runs listed on one page.
const LISTED: u64 = 100;

/// Seconds between reloads of a page showing runs in progress.
const REFRESH: u32 = 3;

/// The list's filters, as the form sends them (empty means none).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RunsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    experiment_id: String,
    #[serde(default)]
    study_id: String,
}

fn uuid_of(field: &str, value: &str) -> Result<Option<Uuid>, ApiError> {
    if value.is_empty() {
        return Ok(None);
    }
    Uuid::parse_str(value).map(Some).map_err(|_| ApiError::bad_parameter(field, format!("`{value}` is not a UUID")))
}

impl RunsQuery {
    fn filter(&self) -> Result<RunFilter, ApiError> {
        let status = if self.status.is_empty() {
            None
        } else {
            Some(
                self.status
                    .parse::<RunStatus>()
                    .map_err(|error| ApiError::bad_parameter("status", error.to_string()))?,
            )
        };
        Ok(RunFilter {
            status,
            experiment_id: uuid_of("experiment_id", &self.experiment_id)?.map(ExperimentId::from),
            study_id: uuid_of("study_id", &self.study_id)?.map(JobId::from),
            owner: None,
        })
    }
}

/// `GET /`: the caller's runs, newest first.
pub(crate) async fn list(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    query: Query<RunsQuery>,
) -> HttpResponse {
    match list_page(&state, &caller, &query).await {
        Ok(response) => response,
        Err(error) => error_page(error, Some(&caller)),
    }
}

async fn list_page(state: &AppState, caller: &Caller, query: &RunsQuery) -> Result<HttpResponse, ApiError> {
    let filter = query.filter()?;
    let listed = state.runs.list(caller, filter, false, Page { limit: LISTED, offset: 0 }).await?;
    let active = listed.items.iter().any(|run| !run.status().is_terminal());
    let body = html! {
        h1 { "Runs" }
        form.filters method="get" action="/" {
            label { "status " select name="status" {
                option value="" { "any" }
                @for status in RunStatus::ALL { option value=(status.as_str()) selected[query.status == status.as_str()] { (status.as_str()) } }
            } }
            " "
            label { "experiment " input name="experiment_id" value=(query.experiment_id) placeholder="UUID" size="36"; }
            " "
            label { "study " input name="study_id" value=(query.study_id) placeholder="UUID" size="36"; }
            " " button type="submit" { "Filter" }
        }
        p.muted { (listed.total) " runs" @if active { " · reloading every " (REFRESH) " s while some are in progress" } }
        form method="get" action="/ui/compare" {
            div.table-wrap { table.runs {
                thead { tr { th { "compare" } th { "run" } th { "experiment" } th { "status" } th { "progress" } th { "recall" } th { "QPS" } th { "p99" } th { "created" } } }
                tbody { @for run in &listed.items { (row(run)) } }
            } }
            p { button type="submit" { "Compare selected (2 to 4)" } }
        }
    };
    Ok(page(StatusCode::OK, "Runs", Some(caller), active.then_some(REFRESH), body))
}

fn row(run: &Run) -> Markup {
    let id = run.id().to_string();
    let progress = run.job().progress();
    let report = run.report();
    html! {
        tr data-run=(id) data-status=(run.status().as_str()) {
            td { input type="checkbox" name="ids" value=(id) aria-label="compare"; }
            td { a href={ "/ui/runs/" (id) } title=(id) { code { "…" (id[id.len() - 12..]) } } }
            td { (run.settings().map_or("", |settings| settings.name.as_str())) }
            td { (badge(run.status().as_str())) }
            td {
                @if !run.status().is_terminal() {
                    (progress.phase) " "
                    @if let Some(total) = progress.total { progress value=(progress.done) max=(total.max(1)) {} }
                }
            }
            @if let Some(report) = &report {
                td.num { (report.recall.map_or(String::new(), ratio)) }
                td.num { (report.qps.map_or(String::new(), qps)) }
                td.num { (report.p_99_latency.map_or(String::new(), ms)) }
            } @else { td {} td {} td {} }
            td { (run.job().created_at().format("%Y-%m-%d %H:%M")) }
        }
    }
}

/// `GET /ui/runs/{id}`: one run.
pub(crate) async fn detail(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<Uuid>,
    request: HttpRequest,
) -> HttpResponse {
    match detail_page(&state, &caller, RunId::from(path.into_inner()), &request).await {
        Ok(response) => response,
        Err(error) => error_page(error, Some(&caller)),
    }
}

async fn detail_page(
    state: &AppState,
    caller: &Caller,
    id: RunId,
    request: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let run = state.runs.get(caller, id).await?;
    let name = run.settings().map_or_else(|| id.to_string(), |settings| settings.name.clone());
    let report = run.report();
    let sections = match &report {
        Some(report) => {
            Some(run_sections(&[ReportRun::of(&run, report.clone())]).map_err(|error| ApiError::internal(&error))?)
        }
        None => None,
    };
    let mut links = Vec::new();
    let mut log = Vec::new();
    if let Some(artifacts) = &state.artifacts
        && run.status().is_terminal()
    {
        let folder = id.to_string();
        if run.status() == RunStatus::Completed {
            for (artifact, label) in [
                (Artifact::Report, "report (HTML)"),
                (Artifact::ResultJson, "result.json"),
                (Artifact::QueriesParquet, "per-query results (Parquet)"),
            ] {
                links.push((label, signed_url(artifacts, &folder, artifact, request).await?.0));
            }
        }
        links.push(("log.jsonl", signed_url(artifacts, &folder, Artifact::Log, request).await?.0));
        if let Ok(bytes) = artifacts.results.read_artifact(&folder, Artifact::Log).await {
            log = String::from_utf8_lossy(&bytes)
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .collect();
        }
    }
    let progress = run.job().progress();
    let active = !run.status().is_terminal();
    let body = html! {
        h1 { (name) " " (badge(run.status().as_str())) }
        p.muted { "run " code { (id) } " · experiment " code { (run.experiment_id()) } }
        @if active {
            p.progress { "phase " strong { (progress.phase) } " "
                @if let Some(total) = progress.total { progress value=(progress.done) max=(total.max(1)) {} " " (progress.done) " of " (total) } }
        }
        @if let Some(error) = run.error() { p.problem { (error) } }
        @if let Some(sections) = &sections {
            (sections.summary)
            @if !links.is_empty() { h2 { "Artifacts" } ul.artifacts { @for (label, url) in &links { li { a href=(url) { (label) } } } } }
            (sections.charts)
            (sections.tables)
        } @else if !links.is_empty() {
            h2 { "Artifacts" } ul.artifacts { @for (label, url) in &links { li { a href=(url) { (label) } } } }
        }
        @if !log.is_empty() {
            h2 { "Log" }
            div.table-wrap { table.log {
                thead { tr { th { "at" } th { "level" } th { "event" } th { "phase" } th { "detail" } } }
                tbody { @for event in &log {
                    tr { td { (text(&event["at"])) } td { (text(&event["level"])) } td { (text(&event["event"])) } td { (text(&event["phase"])) }
                         td { (text(&event["message"])) (text(&event["error"])) } }
                } }
            } }
        }
    };
    let title = format!("Run of {name}");
    Ok(page(StatusCode::OK, &title, Some(caller), active.then_some(REFRESH), body))
}

/// A log field as text (empty when absent).
fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other @ (serde_json::Value::Bool(_)
        | serde_json::Value::Number(_)
        | serde_json::Value::Array(_)
        | serde_json::Value::Object(_)) => other.to_string(),
    }
}
