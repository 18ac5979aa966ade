//! Probes (`/health` liveness, `/ready` readiness) and Prometheus metrics (`/metrics`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::web::Json;
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::ApiComponent;
use apistos::api_operation;
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use apistos::web::{ServiceConfig, get, resource};
use qbench_domain::RunStatus;
use schemars::JsonSchema;
use serde::Serialize;

use crate::state::AppState;

/// How long a probe waits for a dependency.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The health of one dependency.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ComponentHealth {
    /// `ok` or `unavailable`.
    pub status: String,
    /// What it is (`sqlite`, `postgres`, an endpoint URL).
    pub backend: String,
    /// How long the probe took, in milliseconds.
    pub latency_ms: f64,
    /// Why it is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The health of qbench and its dependencies.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = "HealthBody::example")]
pub struct HealthBody {
    /// `ok` when every component is, `degraded` when only the database is, else `unavailable`.
    pub status: String,
    /// Each dependency, by name (`database`, `object_storage`).
    pub components: BTreeMap<String, ComponentHealth>,
}

impl HealthBody {
    fn example() -> Self {
        Self {
            status: "ok".to_owned(),
            components: BTreeMap::from([(
                "database".to_owned(),
                ComponentHealth {
                    status: "ok".to_owned(),
                    backend: "postgres".to_owned(),
                    latency_ms: 0.4,
                    error: None,
                },
            )]),
        }
    }
}

async fn probe_database(state: &AppState) -> ComponentHealth {
    let started = Instant::now();
    let result = tokio::time::timeout(PROBE_TIMEOUT, state.database.ping()).await;
    let error = match result {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(err.to_string()),
        Err(_) => Some(format!("no answer within {PROBE_TIMEOUT:?}")),
    };
    component(state.database.backend().to_owned(), started, error)
}

async fn probe_object_storage(endpoint: &str) -> ComponentHealth {
    let started = Instant::now();
    let address = url::Url::parse(endpoint)
        .ok()
        .and_then(|url| Some(format!("{}:{}", url.host_str()?, url.port_or_known_default()?)));
    let error = match address {
        None => Some("the endpoint has no host and port".to_owned()),
        Some(address) => match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::TcpStream::connect(&address)).await {
            Ok(Ok(_)) => None,
            Ok(Err(err)) => Some(format!("cannot connect to {address}: {err}")),
            Err(_) => Some(format!("no answer from {address} within {PROBE_TIMEOUT:?}")),
        },
    };
    component(endpoint.to_owned(), started, error)
}

fn component(backend: String, started: Instant, error: Option<String>) -> ComponentHealth {
    ComponentHealth {
        status: if error.is_none() { "ok" } else { "unavailable" }.to_owned(),
        backend,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        error,
    }
}

/// A readiness answer: 200 while the database answers (`ok`, or `degraded` when another
/// dependency does not), 503 when it does not (`unavailable`); the body is the same either way.
pub struct HealthAnswer(HealthBody);

impl HealthAnswer {
    fn new(components: BTreeMap<String, ComponentHealth>) -> Self {
        let database_ok = components.get("database").is_some_and(|database| database.error.is_none());
        let all_ok = components.values().all(|component| component.error.is_none());
        let status = match (database_ok, all_ok) {
            (true, true) => "ok",
            (true, false) => "degraded",
            (false, _) => "unavailable",
        };
        Self(HealthBody { status: status.to_owned(), components })
    }
}

impl Responder for HealthAnswer {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<BoxBody> {
        let status = if self.0.status == "unavailable" { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK };
        HttpResponse::build(status).json(self.0)
    }
}

impl ApiComponent for HealthAnswer {
    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        HealthBody::child_schemas()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        HealthBody::schema()
    }

    fn responses(_content_type: Option<String>) -> Option<Responses> {
        let (name, _) = HealthBody::schema()?;
        let response = |description: &str| {
            ReferenceOr::Object(Response {
                description: description.to_owned(),
                content: BTreeMap::from([(
                    "application/json".to_owned(),
                    MediaType {
                        schema: Some(ReferenceOr::Reference { _ref: format!("#/components/schemas/{name}") }),
                        ..Default::default()
                    },
                )]),
                ..Default::default()
            })
        };
        Some(Responses {
            responses: BTreeMap::from([
                (
                    "200".to_owned(),
                    response("The database answers (`ok`; `degraded` when another dependency does not)"),
                ),
                ("503".to_owned(), response("The database does not answer; the body says why")),
            ]),
            ..Default::default()
        })
    }
}

/// Readiness: the database and, when configured, the default object storage.
async fn check_ready(state: &AppState) -> HealthAnswer {
    let mut components = BTreeMap::from([("database".to_owned(), probe_database(state).await)]);
    if let Some(endpoint) = &state.object_storage_endpoint {
        components.insert("object_storage".to_owned(), probe_object_storage(endpoint).await);
    }
    HealthAnswer::new(components)
}

/// Liveness: the process answers requests.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
pub struct LivenessBody {
    /// Always `ok`: a process that can say so is alive.
    pub status: String,
    /// qbench's version.
    pub version: String,
}

fn alive() -> Json<LivenessBody> {
    Json(LivenessBody { status: "ok".to_owned(), version: env!("CARGO_PKG_VERSION").to_owned() })
}

#[api_operation(
    operation_id = "health",
    tag = "operations",
    summary = "Liveness: 200 while the process answers",
    description = "Checks no dependency, so a database outage never makes a liveness probe restart a \
                   healthy process; use /ready for the dependencies."
)]
pub(crate) async fn health() -> Json<LivenessBody> {
    alive()
}

#[api_operation(
    operation_id = "api_health",
    tag = "operations",
    summary = "Liveness (same as /health): 200 while the process answers"
)]
pub(crate) async fn api_health() -> Json<LivenessBody> {
    alive()
}

#[api_operation(
    operation_id = "ready",
    tag = "operations",
    summary = "Readiness: 200 when the database (and the configured object storage) answer, 503 otherwise",
    description = "The body details each dependency; use it for a readiness probe (and /health for liveness)."
)]
pub(crate) async fn ready(state: Data<AppState>) -> HealthAnswer {
    check_ready(&state).await
}

#[api_operation(
    operation_id = "api_ready",
    tag = "operations",
    summary = "Readiness (same as /ready): 200 when the dependencies answer, 503 otherwise"
)]
pub(crate) async fn api_ready(state: Data<AppState>) -> HealthAnswer {
    check_ready(&state).await
}

#[api_operation(
    operation_id = "metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Requests by route and status, request latency histogram, runs by status, and the job queue: `qbench_jobs{kind,status}`, `qbench_job_queue_age_seconds` (the oldest waiting job), `qbench_jobs_running{worker}`, and `qbench_job_duration_seconds{kind,status}` of the jobs this process's worker ended (a `qbench worker` serves its own on `worker.http_port`).",
    produces = "text/plain"
)]
pub(crate) async fn metrics_endpoint(state: Data<AppState>) -> HttpResponse {
    // Every user's runs: the gauge is the service's own view, not a caller's.
    for status in RunStatus::ALL {
        if let Ok(total) = state.runs.count(status).await {
            metrics::gauge!("qbench_runs", "status" => status.as_str()).set(total as f64);
        }
    }
    if let Ok(stats) = state.jobs.stats().await {
        crate::queue_metrics::record(&stats);
    }
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render())
}

/// The probes and metrics at the root (`/health`, `/ready`, `/metrics`).
pub fn health_routes(config: &mut ServiceConfig) {
    config
        .service(resource("/health").route(get().to(health)))
        .service(resource("/ready").route(get().to(ready)))
        .service(resource("/metrics").route(get().to(metrics_endpoint)));
}
