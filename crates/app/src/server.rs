//! Assembles the application: the HTTP app for tests and the server for `qbench serve`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{Error, HttpServer};
use apistos::app::{BuildConfig, OpenApiWrapper};
use apistos::info::Info;
use apistos::spec::Spec;
use apistos::tag::Tag;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use qbench_repository::{JobQueue, RepositoryError, RunRepository};
use qbench_service::{ApiKeyService, MemoryBudget, Repositories, ServiceError};
use qbench_sql::SqlDatabase;
use secrecy::ExposeSecret;
use tokio::signal::unix::{SignalKind, signal};

use crate::api;
use crate::api::body::BodyLimit;
use crate::artifact_urls::ArtifactUrls;
use crate::auth::{self, AuthConfig, AuthConfigError, Authenticator};
use crate::isolation::ChildProcessExecutor;
use crate::job_queue::NotifyJobQueue;
use crate::observe::observe;
use crate::protect::{self, RateLimiter, RequestTimeout};
use crate::secret_key::{SecretKeyError, load_cipher, load_key};
use crate::settings::{Isolation, ServerSettings, Settings};
use crate::state::{AppState, Artifacts};
use crate::wiring::{Engine, sql_repositories, worker_settings};
use crate::{dashboard, docs};
use qbench_service::backfills::BackfillHandler;
use qbench_service::execution::{BenchmarkHandler, ExecutionDependencies};
use qbench_service::jobs::{JobWorker, NoopHandler};
use qbench_service::reports::ReportHandler;
use qbench_service::snapshots::{RestoreHandler, SnapshotHandler};
use qbench_service::studies::{StudyHandler, StudyService};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Why the server did not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The secret key is missing or malformed.
    #[error("secret key: {0}")]
    SecretKey(#[from] SecretKeyError),
    /// The database could not be opened.
    #[error("database: {0}")]
    Database(#[from] RepositoryError),
    /// The dataset storage could not be set up (a data root or the results location).
    #[error("storage: {0}")]
    Storage(#[from] qbench_storage::StorageError),
    /// The built-in connection could not be created.
    #[error("start-up: {0}")]
    Service(#[from] ServiceError),
    /// The address could not be bound, or the server failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    /// The authentication settings cannot be used.
    #[error("authentication: {0}")]
    Auth(#[from] AuthConfigError),
}

/// The process-wide Prometheus recorder (a recorder can be installed once per process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
            // Jobs last from milliseconds (a probe) to hours (a large index build).
            let job_buckets = [0.1, 1.0, 10.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14_400.0, 43_200.0];
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full("http_request_duration_seconds".to_owned()), &buckets)
                .and_then(|builder| {
                    builder
                        .set_buckets_for_metric(Matcher::Full("qbench_job_duration_seconds".to_owned()), &job_buckets)
                })
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics shows only qbench's own");
            }
            handle
        })
        .clone()
}

fn spec() -> Spec {
    let tag = |name: &str, description: &str| Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Default::default()
    };
    Spec {
        info: Info {
            title: "qbench".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(
                "Benchmark and tune Qdrant: register connections, object storage, datasets and experiments, \
                 then run them and read honest metrics. Every error is RFC 7807 problem+json."
                    .to_owned(),
            ),
            ..Default::default()
        },
        tags: vec![
            tag("connections", "Qdrant servers to benchmark (and the built-in embedded engine)"),
            tag("storage", "S3-compatible object storage holding datasets"),
            tag("datasets", "Parquet datasets with named dense vectors"),
            tag("experiments", "Index, quantization and search settings, validated against a dataset"),
            tag("runs", "Executions of experiments"),
            tag("metadata", "Version and capabilities"),
            tag("operations", "Health, readiness and metrics"),
        ],
        ..Default::default()
    }
}

/// The HTTP application over `state`: the API, probes, metrics, OpenAPI and its viewers.
pub fn build_app(
    state: AppState,
    server: ServerSettings,
) -> actix_web::App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    actix_web::App::new()
        .document(spec())
        .app_data(Data::new(state))
        .app_data(Data::new(BodyLimit(server.max_body_bytes)))
        .app_data(Data::new(RequestTimeout(Duration::from_secs(server.request_timeout_seconds))))
        .app_data(api::path_config())
        .configure(api::health_routes)
        .configure(api::configure)
        .configure(docs::asset_routes)
        .build_with("/openapi.json", BuildConfig::default().with(docs::swagger_ui()).with(docs::redoc()))
        .configure(dashboard::routes)
        .wrap(from_fn(protect::deadline))
        .wrap(from_fn(auth::authenticate))
        .wrap(protect::cors(&server.cors_allowed_origins))
        .wrap(protect::security_headers())
        .wrap(from_fn(observe))
}

/// Everything a qbench process runs on: the HTTP state, and the run worker with its wake-up.
pub struct Runtime {
    /// The HTTP handlers' state.
    pub state: AppState,
    /// Executes queued jobs.
    pub worker: Arc<JobWorker>,
    /// Notified when a job is queued (through this process, or any on PostgreSQL).
    pub wake: Arc<Notify>,
    /// Wakes `wake` on other processes' jobs (PostgreSQL only).
    pub listener: Option<tokio::task::JoinHandle<()>>,
}

/// Opens the database and builds the state the server runs on.
pub async fn open_state(settings: &Settings) -> Result<AppState, StartError> {
    open_runtime(settings).await.map(|runtime| runtime.state)
}

/// Opens what a run's child process executes with: the database's repositories and the engine's
/// adapters; nothing is created or changed at start-up.
pub async fn open_execution(
    settings: &Settings,
) -> Result<(ExecutionDependencies, Arc<dyn RunRepository>), StartError> {
    let (repositories, engine, _) = open_repositories(settings, |_| Arc::new(NotifyJobQueue::default())).await?;
    Ok((engine.execution(&repositories, settings), repositories.runs.clone()))
}

/// The database's repositories (announcing jobs on the queue `queue` makes of the database),
/// the engine's adapters and the database itself.
async fn open_repositories(
    settings: &Settings,
    queue: impl FnOnce(Arc<SqlDatabase>) -> Arc<dyn JobQueue>,
) -> Result<(Repositories, Engine, Arc<SqlDatabase>), StartError> {
    let cipher = load_cipher(settings.secret_key.as_ref(), &settings.data_dir)?;
    let database = Arc::new(SqlDatabase::connect(settings.database_url().expose_secret(), cipher).await?);
    let queue = queue(database.clone());
    Ok((sql_repositories(database.clone(), queue), Engine::new(settings)?, database))
}

/// Opens the database and the engine's adapters, and builds the state and the worker.
pub async fn open_runtime(settings: &Settings) -> Result<Runtime, StartError> {
    let mut wake = None;
    let (repositories, engine, database) = open_repositories(settings, |database| {
        let queue = NotifyJobQueue::announcing_through(database);
        wake = Some(queue.notifier());
        Arc::new(queue)
    })
    .await?;
    let wake = wake.unwrap_or_default();
    let endpoint = Some(settings.object_storage.minio_endpoint.clone()).filter(|endpoint| !endpoint.is_empty());
    let mut state = AppState::new(repositories.clone(), endpoint, metrics_handle());
    let api_keys = ApiKeyService::new(repositories.api_keys.clone());
    state.auth = Arc::new(Authenticator::new(AuthConfig::from_settings(&settings.auth)?, Some(api_keys))?);
    state.rate_limiter = Arc::new(RateLimiter::per_minute(settings.server.rate_limit_per_minute));
    state.datasets = state
        .datasets
        .clone()
        .with_reader(engine.storage.clone(), engine.default_s3.clone())
        .with_local_access(settings.local_access());
    state.runs = state.runs.clone().with_results(engine.storage.clone());
    if let Some(bytes) = settings.memory_budget() {
        state.runs = state.runs.clone().with_memory_budget(MemoryBudget {
            datasets: repositories.datasets.clone(),
            connections: repositories.connections.clone(),
            bytes,
            default_queries: settings.worker.queries as u64,
        });
    }
    state.studies = StudyService::new(&repositories, settings.studies.limits())
        .with_archives(engine.storage.clone(), settings.local_access());
    state.connections = state.connections.clone().with_stores(engine.stores.clone());
    state.results_store = if settings.engine.results.starts_with("s3://") { "s3" } else { "local" };
    state.snapshots =
        state.snapshots.clone().with_engines(engine.storage.clone(), engine.stores.clone(), settings.local_access());
    state.backfills = state.backfills.clone().with_stores(engine.stores.clone());
    let secret_key = load_key(settings.secret_key.as_ref(), &settings.data_dir)?;
    state.artifacts = Some(Artifacts {
        results: engine.storage.clone(),
        urls: ArtifactUrls::new(&secret_key, Duration::from_secs(settings.server.artifact_url_seconds)),
        clock: repositories.clock.clone(),
    });
    state.connections.ensure_builtin().await?;
    let mut benchmarks = BenchmarkHandler::new(repositories.runs.clone(), engine.execution(&repositories, settings));
    if settings.worker.isolation == Isolation::Process {
        benchmarks = benchmarks.with_executor(Arc::new(
            ChildProcessExecutor::from_settings(settings)?.with_results(engine.storage.clone()),
        ));
    }
    let worker = JobWorker::new(repositories.jobs.clone(), worker_settings(settings), repositories.clock.clone())
        .with_handler(Arc::new(benchmarks))
        .with_handler(Arc::new(NoopHandler))
        .with_handler(Arc::new(
            StudyHandler::new(&repositories).with_min_sample_points(settings.studies.min_sample_points).with_snapshots(
                &repositories,
                engine.storage.clone(),
                engine.stores.clone(),
                settings.local_access(),
            ),
        ))
        .with_handler(Arc::new(ReportHandler::new(&repositories, engine.storage.clone())))
        .with_handler(Arc::new(SnapshotHandler::new(
            &repositories,
            engine.storage.clone(),
            engine.stores.clone(),
            settings.local_access(),
        )))
        .with_handler(Arc::new(RestoreHandler::new(
            &repositories,
            engine.storage.clone(),
            engine.stores.clone(),
            settings.local_access(),
        )))
        .with_handler(Arc::new(BackfillHandler::new(
            &repositories,
            engine.storage.clone(),
            engine.stores.clone(),
            engine.default_s3.clone(),
            settings.local_access(),
        )))
        .announcing_to(repositories.workers.clone())
        .reporting_ends_to(Arc::new(crate::queue_metrics::record_end));
    let listener = database.listen_for_jobs(wake.clone());
    Ok(Runtime { state, worker: Arc::new(worker), wake, listener })
}

/// Runs the server until SIGINT or SIGTERM, then lets in-flight requests finish.
pub async fn serve(settings: Settings) -> Result<(), StartError> {
    let Runtime { state, worker, wake, listener: _listener } = open_runtime(&settings).await?;
    let stop_worker = CancellationToken::new();
    let worker_task = settings.worker.enabled.then(|| actix_web::rt::spawn(worker.run(wake, stop_worker.clone())));
    if state.auth.is_development() {
        tracing::warn!(
            user = qbench_domain::Caller::DEVELOPMENT_USER,
            "auth.mode is none: every request acts as the development admin; set QBENCH_AUTH_MODE in production"
        );
    }
    let server_settings = settings.server.clone();
    let server = HttpServer::new(move || build_app(state.clone(), server_settings.clone()))
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_seconds)
        .bind((settings.server.bind, settings.server.port))?;
    let addresses = server.addrs();
    let running = server.run();
    // The signal handlers are registered before "listening" is said, so from then on a signal
    // always means a graceful stop, never the default of dying mid-request.
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let handle = running.handle();
    actix_web::rt::spawn(async move {
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal = name, "shutting down gracefully");
        handle.stop(true).await;
    });
    for address in addresses {
        tracing::info!(%address, database = %redact(settings.database_url().expose_secret()), "qbench listening");
    }
    running.await?;
    stop_worker.cancel();
    if let Some(task) = worker_task {
        drop(task.await);
    }
    tracing::info!("qbench stopped");
    Ok(())
}

/// Executes queued runs until SIGINT or SIGTERM, without serving HTTP.
pub async fn work(settings: Settings) -> Result<(), StartError> {
    let Runtime { worker, wake, listener, state } = open_runtime(&settings).await?;
    let probes = serve_worker_probes(&settings, state.metrics.clone())?;
    let identity = worker.settings();
    tracing::info!(
        worker = %identity.worker_id,
        labels = %identity.labels.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        max_concurrent_runs = identity.max_concurrent_runs,
        max_concurrent_jobs = identity.max_concurrent_jobs,
        kinds = %worker.kinds().iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        database = %redact(settings.database_url().expose_secret()),
        notifications = listener.is_some(),
        "worker started"
    );
    let stop = CancellationToken::new();
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let stopper = stop.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("worker shutting down");
        stopper.cancel();
    });
    worker.run(wake, stop).await;
    if let Some(probes) = probes {
        probes.stop(true).await;
    }
    tracing::info!("qbench worker stopped");
    Ok(())
}

/// `/health` (liveness: the worker's process answers) and `/metrics` on `worker.http_port`, when set.
fn serve_worker_probes(
    settings: &Settings,
    metrics: PrometheusHandle,
) -> Result<Option<actix_web::dev::ServerHandle>, StartError> {
    if settings.worker.http_port == 0 {
        return Ok(None);
    }
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        actix_web::App::new()
            .route(
                "/health",
                actix_web::web::get()
                    .to(|| async { actix_web::HttpResponse::Ok().json(serde_json::json!({"status": "ok"})) }),
            )
            .route(
                "/metrics",
                actix_web::web::get().to(move || {
                    let body = metrics.render();
                    async move { actix_web::HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body) }
                }),
            )
    })
    .disable_signals()
    .workers(1)
    .bind((settings.server.bind, settings.worker.http_port))?;
    for address in server.addrs() {
        tracing::info!(%address, "worker probes listening (/health, /metrics)");
    }
    let running = server.run();
    let handle = running.handle();
    tokio::spawn(running);
    Ok(Some(handle))
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
