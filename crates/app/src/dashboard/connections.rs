//! `POST /ui/connections/{id}/test`: a connection tested from the dashboard, each step shown.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use maud::html;
use qbench_domain::ConnectionId;
use qbench_vector_store::StepOutcome;
use uuid::Uuid;

use crate::api::problem::ApiError;
use crate::auth::Authenticated;
use crate::dashboard::page::{error_page, page};
use crate::state::AppState;

/// Tests the connection and shows how each step went.
pub(crate) async fn test(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    path: Path<Uuid>,
) -> HttpResponse {
    let (connection, check) = match state.connections.test(&caller, ConnectionId::from(path.into_inner())).await {
        Ok(tested) => tested,
        Err(error) => return error_page(ApiError::from(error), Some(&caller)),
    };
    let title = format!("Connection {}", connection.spec.name);
    page(
        StatusCode::OK,
        &title,
        Some(&caller),
        None,
        html! {
            h1 { (title) " " @if check.is_ok() { span.badge.COMPLETED { "OK" } } @else { span.badge.FAILED { "FAILED" } } }
            p.muted { code { (connection.spec.url) } }
            @if let Some(engine) = &check.engine {
                p { (engine.engine) " " (engine.version)
                    @if let Some(rtt) = check.round_trip { " · answered in " (format!("{:.1}", rtt.as_secs_f64() * 1000.0)) " ms" } }
            }
            div.table-wrap { table.connection-test {
                thead { tr { th { "step" } th { "" } th { "detail" } } }
                tbody { @for (step, outcome) in &check.steps {
                    @let (status, detail) = match outcome {
                        StepOutcome::Passed => ("passed", ""),
                        StepOutcome::Failed(why) => ("failed", why.as_str()),
                        StepOutcome::Skipped => ("skipped", ""),
                    };
                    tr data-step=(step.as_str()) data-status=(status) { td { (step.as_str()) } td { (status) } td.bad { (detail) } }
                } }
            } }
            p { a href="/ui/experiments" { "Back to datasets & experiments" } }
        },
    )
}
