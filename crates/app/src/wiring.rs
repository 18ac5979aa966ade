//! The composition root of the benchmark engine: which adapter serves which port.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::{Connection, RunId};
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig, ResultsLocation};
use qbench_qdrant::RemoteProvider;
use qbench_qdrant_edge::EmbeddedProvider;
use qbench_repository::JobQueue;
use qbench_service::Repositories;
use qbench_service::SystemClock;
use qbench_service::execution::{ExecutionDefaults, ExecutionDependencies, SnapshotSources};
use qbench_service::jobs::WorkerSettings;
use qbench_sql::SqlDatabase;
use qbench_storage::{S3Credentials, StorageError};
use qbench_vector_store::{ConnectionCheck, EngineHealth, VectorStore, VectorStoreError, VectorStoreProvider};
use secrecy::{ExposeSecret, SecretString};

use crate::settings::Settings;

/// Opens the embedded engine for `embedded://` connections and a remote Qdrant otherwise.
pub struct ConnectionRouter {
    embedded: EmbeddedProvider,
    remote: RemoteProvider,
}

impl ConnectionRouter {
    /// A router keeping the embedded engine's collections under `engine_dir`.
    pub fn new(engine_dir: PathBuf) -> Self {
        Self { embedded: EmbeddedProvider::new(engine_dir), remote: RemoteProvider::default() }
    }
}

#[async_trait]
impl VectorStoreProvider for ConnectionRouter {
    async fn open(&self, connection: &Connection, run_id: RunId) -> Result<Arc<dyn VectorStore>, VectorStoreError> {
        if connection.is_embedded() {
            self.embedded.open(connection, run_id).await
        } else {
            self.remote.open(connection, run_id).await
        }
    }

    async fn health(&self, connection: &Connection) -> Result<EngineHealth, VectorStoreError> {
        if connection.is_embedded() {
            self.embedded.health(connection).await
        } else {
            self.remote.health(connection).await
        }
    }

    async fn check(&self, connection: &Connection) -> ConnectionCheck {
        if connection.is_embedded() {
            self.embedded.check(connection).await
        } else {
            self.remote.check(connection).await
        }
    }
}

/// The engine's adapters, built once from the settings.
#[derive(Clone)]
pub struct Engine {
    /// Reads and writes datasets and results.
    pub storage: Arc<ParquetStorage>,
    /// Opens the Qdrant a connection points at.
    pub stores: Arc<dyn VectorStoreProvider>,
    /// Credentials for `s3://` datasets that name no registered storage.
    pub default_s3: Option<S3Credentials>,
}

fn nonempty(secret: &SecretString) -> Option<SecretString> {
    (!secret.expose_secret().is_empty()).then(|| secret.clone())
}

impl Engine {
    /// Credentials of the `MINIO_*` settings, when an endpoint is configured.
    pub fn default_s3(settings: &Settings) -> Option<S3Credentials> {
        let minio = &settings.object_storage;
        (!minio.minio_endpoint.is_empty()).then(|| S3Credentials {
            endpoint_url: Some(minio.minio_endpoint.clone()),
            region: qbench_domain::StorageSpec::DEFAULT_REGION.to_owned(),
            access_key: nonempty(&minio.minio_access_key),
            secret_key: nonempty(&minio.minio_secret_key),
        })
    }

    /// The adapters the settings call for.
    pub fn new(settings: &Settings) -> Result<Self, StorageError> {
        let default_s3 = Self::default_s3(settings);
        let results = if settings.engine.results.starts_with("s3://") {
            ResultsLocation::S3 {
                uri: settings.engine.results.clone(),
                credentials: default_s3.clone().unwrap_or(S3Credentials {
                    endpoint_url: None,
                    region: qbench_domain::StorageSpec::DEFAULT_REGION.to_owned(),
                    access_key: None,
                    secret_key: None,
                }),
            }
        } else if settings.engine.results.is_empty() {
            ResultsLocation::Local(settings.data_dir.join("results"))
        } else {
            ResultsLocation::Local(PathBuf::from(&settings.engine.results))
        };
        let storage = ParquetStorage::new(storage_config(settings, settings.data_roots(), results)?)?;
        Ok(Self {
            storage: Arc::new(storage),
            stores: Arc::new(ConnectionRouter::new(settings.data_dir.join("engine"))),
            default_s3,
        })
    }

    /// What a run execution needs, over `repositories`.
    pub fn execution(&self, repositories: &Repositories, settings: &Settings) -> ExecutionDependencies {
        ExecutionDependencies {
            experiments: repositories.experiments.clone(),
            datasets: repositories.datasets.clone(),
            storages: repositories.storages.clone(),
            connections: repositories.connections.clone(),
            reader: self.storage.clone(),
            stores: self.stores.clone(),
            results: self.storage.clone(),
            sources: Some(SnapshotSources {
                snapshots: repositories.snapshots.clone(),
                runs: repositories.runs.clone(),
                archives: self.storage.clone(),
            }),
            defaults: ExecutionDefaults {
                batch_size: settings.worker.batch_size,
                upload_parallelism: settings.worker.upload_parallelism,
                queries: settings.worker.queries,
                search_seconds: settings.worker.search_seconds,
                repetitions: settings.worker.repetitions,
                default_s3: self.default_s3.clone(),
                qbench_version: env!("CARGO_PKG_VERSION").to_owned(),
                memory_budget: settings.memory_budget(),
                local_access: settings.local_access(),
                ..ExecutionDefaults::default()
            },
        }
    }
}

/// The storage adapter's configuration: `data_roots`, `results`, and the egress policy and idle
/// timeout of HTTP(S) sources from the settings. The server, `qbench bench` and the `dataset`
/// commands all apply the same policy: a URL is refused on the command line as it would be in the
/// API, and the operator allows more in one place (`[egress]`).
///
/// # Errors
/// `Refused` naming the key for an invalid `[egress]` entry (which [`Settings::load`] refuses
/// already).
pub fn storage_config(
    settings: &Settings,
    data_roots: Vec<PathBuf>,
    results: ResultsLocation,
) -> Result<ParquetStorageConfig, StorageError> {
    let egress = settings
        .egress
        .policy()
        .map_err(|error| StorageError::Refused { location: "[egress]".to_owned(), reason: error.to_string() })?;
    let private_paths = settings.private_paths(&results);
    Ok(ParquetStorageConfig {
        data_roots,
        private_paths,
        results: Some(results),
        egress,
        http_idle_timeout: settings.egress.http_idle_timeout(),
    })
}

/// The worker settings of this process.
pub fn worker_settings(settings: &Settings) -> WorkerSettings {
    WorkerSettings {
        worker_id: format!("{}-{}", hostname(), std::process::id()),
        host: hostname(),
        lease: Duration::from_secs(settings.worker.lease_seconds),
        heartbeat: Duration::from_millis(settings.worker.heartbeat_ms),
        labels: settings.worker_labels().unwrap_or_default(),
        poll_interval: Duration::from_millis(settings.worker.poll_ms),
        max_concurrent_runs: settings.worker.max_concurrent_runs,
        max_concurrent_jobs: settings.worker.max_concurrent_jobs,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|name| name.trim().to_owned()).unwrap_or_else(|_| "qbench".to_owned())
}

/// Every repository port served by one SQL database, with `queue` waking the workers.
pub fn sql_repositories(database: Arc<SqlDatabase>, queue: Arc<dyn JobQueue>) -> Repositories {
    Repositories {
        connections: database.clone(),
        storages: database.clone(),
        datasets: database.clone(),
        experiments: database.clone(),
        runs: database.clone(),
        jobs: database.clone(),
        workers: database.clone(),
        api_keys: database.clone(),
        snapshots: database.clone(),
        backfills: database.clone(),
        queue,
        health: database,
        clock: Arc::new(SystemClock),
    }
}
