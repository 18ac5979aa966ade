//! What every handler can reach: the services and the probes.

use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use qbench_repository::DatabaseHealth;

use qbench_service::Clock;
use qbench_storage::ResultWriter;

use crate::artifact_urls::ArtifactUrls;
use crate::auth::Authenticator;
use crate::protect::RateLimiter;
use qbench_domain::study::StudyLimits;
use qbench_service::backfills::BackfillService;
use qbench_service::jobs::JobService;
use qbench_service::reports::ReportService;
use qbench_service::snapshots::SnapshotService;
use qbench_service::studies::StudyService;
use qbench_service::{ConnectionService, DatasetService, ExperimentService, Repositories, RunService, StorageService};

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// Connections.
    pub connections: ConnectionService,
    /// Object storages.
    pub storages: StorageService,
    /// Datasets.
    pub datasets: DatasetService,
    /// Experiments.
    pub experiments: ExperimentService,
    /// Runs.
    pub runs: RunService,
    /// Jobs of every kind.
    pub jobs: JobService,
    /// Tuning studies.
    pub studies: StudyService,
    /// Report pages.
    pub reports: ReportService,
    /// Snapshots and restores.
    pub snapshots: SnapshotService,
    /// Datasets loaded into collections.
    pub backfills: BackfillService,
    /// Database probe.
    pub database: Arc<dyn DatabaseHealth>,
    /// The default S3-compatible endpoint, probed by `/health` when configured.
    pub object_storage_endpoint: Option<String>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Identifies requests.
    pub auth: Arc<Authenticator>,
    /// Limits each identity's request rate.
    pub rate_limiter: Arc<RateLimiter>,
    /// Reads and signs run artifacts; `None` until the server wires its results location.
    pub artifacts: Option<Artifacts>,
    /// When this process started serving, for `/metadata/system`'s uptime.
    pub started: std::time::Instant,
    /// Where results are kept: `local` (a directory) or `s3`.
    pub results_store: &'static str,
}

/// A run's stored artifacts, and the URLs to them.
#[derive(Clone)]
pub struct Artifacts {
    /// Where runs store them.
    pub results: Arc<dyn ResultWriter>,
    /// Signs URLs to qbench itself, for stores that cannot sign.
    pub urls: ArtifactUrls,
    /// The time URLs are checked against.
    pub clock: Arc<dyn Clock>,
}

impl AppState {
    /// Services over `repositories`.
    pub fn new(repositories: Repositories, object_storage_endpoint: Option<String>, metrics: PrometheusHandle) -> Self {
        Self {
            connections: ConnectionService::new(repositories.connections.clone()),
            storages: StorageService::new(repositories.storages.clone()),
            datasets: DatasetService::new(repositories.datasets.clone(), repositories.storages.clone()),
            experiments: ExperimentService::new(
                repositories.experiments.clone(),
                repositories.datasets.clone(),
                repositories.connections.clone(),
            )
            .with_sources(repositories.snapshots.clone(), repositories.runs.clone()),
            runs: RunService::new(
                repositories.runs.clone(),
                repositories.experiments.clone(),
                repositories.queue.clone(),
                repositories.clock.clone(),
            ),
            jobs: JobService::new(
                repositories.jobs.clone(),
                repositories.workers.clone(),
                repositories.queue.clone(),
                repositories.clock.clone(),
            ),
            studies: StudyService::new(&repositories, StudyLimits::default()),
            reports: ReportService::new(&repositories),
            snapshots: SnapshotService::new(&repositories),
            backfills: BackfillService::new(&repositories),
            database: repositories.health,
            object_storage_endpoint,
            metrics,
            auth: Arc::new(Authenticator::development()),
            rate_limiter: Arc::new(RateLimiter::per_minute(0)),
            artifacts: None,
            started: std::time::Instant::now(),
            results_store: "local",
        }
    }
}
