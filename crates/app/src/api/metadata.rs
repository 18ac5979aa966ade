//! `/api/v1/metadata`: what this qbench is and what it can do.

use actix_web::web::{Data, Json};
use apistos::ApiComponent;
use apistos::api_operation;
use qbench_domain::{Distance, IndexKind, Limits, ProductCompression, Quantization};
use schemars::JsonSchema;
use serde::Serialize;

use crate::state::AppState;

/// Build information.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = "VersionBody::example")]
pub struct VersionBody {
    /// qbench's version.
    pub version: String,
    /// The git commit it was built from.
    pub git_sha: String,
    /// When it was built (RFC 3339).
    pub build_time: String,
}

impl VersionBody {
    fn example() -> Self {
        Self {
            version: "0.1.0".to_owned(),
            git_sha: "474306a1c2d3".to_owned(),
            build_time: "2026-11-23T19:43:26Z".to_owned(),
        }
    }
}

/// Accepted ranges.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LimitsBody {
    /// Smallest vector dimension.
    pub min_dim: u32,
    /// Largest vector dimension.
    pub max_dim: u32,
    /// Smallest `k`.
    pub min_k: u32,
    /// Largest `k`.
    pub max_k: u32,
    /// Smallest `ef_construct`.
    pub min_ef_construct: u32,
    /// Largest `ef_construct`.
    pub max_ef_construct: u32,
    /// Largest `m`.
    pub max_m: u32,
    /// Largest `hnsw_ef`.
    pub max_hnsw_ef: u32,
    /// Smallest `full_scan_threshold`.
    pub min_full_scan_threshold: u32,
    /// Largest `full_scan_threshold`.
    pub max_full_scan_threshold: u32,
    /// Largest `oversampling`.
    pub max_oversampling: f64,
    /// Largest `queries_limit`.
    pub max_queries_limit: u32,
    /// Largest `parallel`.
    pub max_parallel: u32,
    /// Largest page of a list.
    pub max_page_size: u64,
}

/// What this qbench supports and uses.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
#[schemars(example = "CapabilitiesBody::example")]
pub struct CapabilitiesBody {
    /// Vector distances.
    pub distances: Vec<String>,
    /// Index types.
    pub index_types: Vec<String>,
    /// Quantization kinds.
    pub quantization: Vec<String>,
    /// Scalar quantization types.
    pub scalar_types: Vec<String>,
    /// Product quantization compressions.
    pub product_compressions: Vec<String>,
    /// Accepted ranges.
    pub limits: LimitsBody,
    /// The database in use (`sqlite` or `postgres`).
    pub database_backend: String,
    /// Object storage backends available (`local`, and `s3` when an endpoint is configured).
    pub storage_backends: Vec<String>,
}

impl CapabilitiesBody {
    fn example() -> Self {
        Self::describe("sqlite", false)
    }

    /// What this build supports, with the backends in use.
    fn describe(database_backend: &str, s3_configured: bool) -> Self {
        let mut storage_backends = vec!["local".to_owned()];
        if s3_configured {
            storage_backends.push("s3".to_owned());
        }
        Self {
            distances: Distance::ALL.iter().map(ToString::to_string).collect(),
            index_types: [IndexKind::Hnsw, IndexKind::Plain].iter().map(|kind| kind.as_str().to_owned()).collect(),
            quantization: Quantization::KINDS.iter().map(|kind| (*kind).to_owned()).collect(),
            scalar_types: vec!["int8".to_owned()],
            product_compressions: ProductCompression::ALL.iter().map(ToString::to_string).collect(),
            limits: LimitsBody {
                min_dim: *Limits::DIMENSION.start(),
                max_dim: *Limits::DIMENSION.end(),
                min_k: *Limits::K.start(),
                max_k: *Limits::K.end(),
                min_ef_construct: Limits::MIN_EF_CONSTRUCT,
                max_ef_construct: *Limits::EF_CONSTRUCT.end(),
                max_m: *Limits::M.end(),
                max_hnsw_ef: *Limits::HNSW_EF.end(),
                min_full_scan_threshold: Limits::MIN_FULL_SCAN_THRESHOLD,
                max_full_scan_threshold: *Limits::FULL_SCAN_THRESHOLD.end(),
                max_oversampling: *Limits::OVERSAMPLING.end(),
                max_queries_limit: *Limits::QUERIES_LIMIT.end(),
                max_parallel: *Limits::PARALLEL.end(),
                max_page_size: qbench_repository::Page::MAX_LIMIT,
            },
            database_backend: database_backend.to_owned(),
            storage_backends,
        }
    }
}

#[api_operation(operation_id = "version", tag = "metadata", summary = "qbench's version and build")]
pub(crate) async fn version() -> Json<VersionBody> {
    Json(VersionBody {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        git_sha: env!("QBENCH_GIT_SHA").to_owned(),
        build_time: env!("QBENCH_BUILD_TIME").to_owned(),
    })
}

#[api_operation(
    operation_id = "capabilities",
    tag = "metadata",
    summary = "Distances, index types, quantization kinds, limits and backends"
)]
pub(crate) async fn capabilities(state: Data<AppState>) -> Json<CapabilitiesBody> {
    Json(CapabilitiesBody::describe(state.database.backend(), state.object_storage_endpoint.is_some()))
}

/// How recently a worker must have announced itself to be listed.
const WORKERS_SEEN_WITHIN: std::time::Duration = std::time::Duration::from_secs(60);

/// A worker seen in the last minute.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
pub struct WorkerBody {
    /// Its name, as jobs record it in `claimed_by`.
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// The labels it carries.
    pub labels: Vec<String>,
    /// Benchmarks it executes at once.
    pub max_concurrent_runs: u32,
    /// Other jobs it executes at once beside them.
    pub max_concurrent_jobs: u32,
    /// When it started.
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// When it last announced itself.
    pub last_seen: chrono::DateTime<chrono::Utc>,
    /// The jobs it executes now.
    pub running_jobs: Vec<uuid::Uuid>,
}

/// This deployment: its build, uptime, database, storage, engines and the workers seen recently.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
pub struct SystemBody {
    /// qbench's version.
    pub version: String,
    /// What was built.
    pub build: BuildBody,
    /// Seconds since this server process started.
    pub uptime_seconds: f64,
    /// The database in use (`sqlite` or `postgres`).
    pub database_backend: String,
    /// Where results, reports and ground-truth caches are kept: `local` (a directory) or `s3`.
    pub results_store: String,
    /// The engines this deployment reaches.
    pub engines: Vec<EngineBody>,
    /// Workers that announced themselves in the last minute, by id.
    pub workers: Vec<WorkerBody>,
}

/// What was built.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
pub struct BuildBody {
    /// qbench's version.
    pub version: String,
    /// `release`, or `debug` for a development build (its timings are not representative).
    pub profile: String,
}

/// An engine qbench drives.
#[derive(Debug, Clone, Serialize, JsonSchema, ApiComponent)]
pub struct EngineBody {
    /// `qdrant-edge` (in process) or `qdrant` (a server, over gRPC and REST).
    pub name: String,
    /// The library version it is driven through, when pinned (the embedded engine's).
    pub version: Option<String>,
    /// Which connections reach it: `embedded://`, or a server's URL.
    pub connections: String,
}

#[api_operation(
    operation_id = "system",
    tag = "metadata",
    summary = "The deployment: build, uptime, database, results store, engines, and the workers seen in the last minute with their labels and current jobs",
    error_code = 500,
    error_code = 503
)]
pub(crate) async fn system(state: Data<AppState>) -> Result<Json<SystemBody>, crate::api::problem::ApiError> {
    let workers = state.jobs.workers(WORKERS_SEEN_WITHIN).await?;
    let version = env!("CARGO_PKG_VERSION").to_owned();
    Ok(Json(SystemBody {
        build: BuildBody {
            version: version.clone(),
            profile: if cfg!(debug_assertions) { "debug" } else { "release" }.to_owned(),
        },
        version,
        uptime_seconds: state.started.elapsed().as_secs_f64(),
        database_backend: state.database.backend().to_owned(),
        results_store: state.results_store.to_owned(),
        engines: vec![
            EngineBody {
                name: qbench_qdrant_edge::ENGINE_NAME.to_owned(),
                version: Some(qbench_qdrant_edge::ENGINE_VERSION.to_owned()),
                connections: qbench_domain::EMBEDDED_CONNECTION_URL.to_owned(),
            },
            EngineBody {
                name: qbench_qdrant::ENGINE_NAME.to_owned(),
                version: None,
                connections: "a Qdrant server's URL (gRPC, REST beside it)".to_owned(),
            },
        ],
        workers: workers
            .into_iter()
            .map(|seen| WorkerBody {
                id: seen.info.id,
                host: seen.info.host,
                labels: seen.info.labels.iter().map(ToString::to_string).collect(),
                max_concurrent_runs: seen.info.max_concurrent_runs,
                max_concurrent_jobs: seen.info.max_concurrent_jobs,
                started_at: seen.info.started_at,
                last_seen: seen.info.last_seen,
                running_jobs: seen.running.iter().map(|id| id.as_uuid()).collect(),
            })
            .collect(),
    }))
}
