//! The qbench domain: what a Qdrant benchmark *is*, with no I/O and no framework.
//!
//! The entities a user registers are [`Connection`] (a Qdrant to benchmark), [`ObjectStorage`]
//! (where datasets live), [`Dataset`] (Parquet data with one or more named dense vectors, described
//! by a [`SchemaConfig`]), [`Experiment`] (per-vector index settings, quantization and search
//! settings) and [`Run`] (one execution of an experiment, whose [`RunStatus`] only moves along the
//! transitions this crate allows). Access is a [`Caller`] with a [`Role`]; an [`ApiKey`] is a stored
//! credential (its SHA-256 digest only) that acts as one.
//!
//! [`ExperimentValidator`] checks an experiment against its dataset and Qdrant's accepted ranges and
//! returns *every* violation at once, each naming its field path, so a user fixes a request in one
//! round trip.
//!
//! ```
//! use qbench_domain::{
//!     ConnectionId, DatasetId, Dimension, Distance, ExperimentSpec, ExperimentValidator,
//!     IndexConfig, OptimizerConfig, SchemaConfig, VectorSpec,
//! };
//!
//! # fn main() -> Result<(), qbench_domain::DomainError> {
//! // The dataset has one 1536-dimensional vector named `dense`...
//! let schema = SchemaConfig::from_vectors([("dense", VectorSpec::new(Dimension::new(1536)?, Distance::Cosine))])?;
//! // ...but the experiment indexes `embedding` with 768 dimensions.
//! let mut spec = ExperimentSpec::new("seed", DatasetId::new(), ConnectionId::new());
//! spec.vector_config = Some([("embedding".parse()?, VectorSpec::new(Dimension::new(768)?, Distance::Cosine))].into());
//! spec.optimizer_config = OptimizerConfig {
//!     indexing: [("embedding".parse()?, IndexConfig::hnsw(16, 100))].into(),
//!     quantization: None,
//! };
//!
//! let report = ExperimentValidator::new(&schema).validate(&spec);
//! assert!(!report.is_valid());
//! assert!(report.errors.iter().any(|v| v.field == "vector_config.embedding"
//!     && v.message.contains("dense")));
//! # Ok(())
//! # }
//! ```
//!
//! A tuning study ([`study`]) searches a space of builds and search settings for the setting
//! that reaches a quality target at the best QPS, p99 or memory. [`study::StudyValidator`] checks
//! a [`study::StudySpec`] like experiments are checked and refuses a space too large for
//! [`study::StudyLimits`]; the service measures, and this crate decides: the Pareto front, the
//! recommendation with how far each setting misses, the `auto` strategy's next measurement, and
//! the JSON to apply to Qdrant. Repeated measurements carry a [`metrics::MeanInterval`].
//!
//! ```
//! use qbench_domain::ScalarType;
//! use qbench_domain::study::{EfValues, QuantizationChoice, SearchSpace, StudySpace, VectorBuildSpace};
//!
//! # fn main() -> Result<(), qbench_domain::DomainError> {
//! let space = StudySpace {
//!     vectors: [("dense".parse()?, VectorBuildSpace::new([16, 32], [128, 256]))].into(),
//!     quantization: vec![QuantizationChoice::None, QuantizationChoice::Scalar(ScalarType::Int8)],
//!     search: SearchSpace::ef(EfValues::Range { min: 32, max: 512 }),
//!     parallel: vec![1, 8],
//! };
//! let size = space.count();
//! // 2 m × 2 ef_construct × 2 quantizations...
//! assert_eq!(size.builds, 8);
//! // ...each searched with hnsw_ef 32, 64, 128, 256 and 512 by 1 and by 8 clients.
//! assert_eq!(size.measurements, 8 * 5 * 2);
//! assert_eq!(space.builds()[1].label(), "m=16,ef_construct=128,int8");
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod access;
mod api_key;
pub mod backfill;
mod connection;
mod dataset;
mod distance;
mod error;
mod experiment;
mod ids;
mod job;
mod limits;
mod local_access;
mod masked;
mod memory;
pub mod metrics;
pub mod neighbors;
mod point;
pub mod report;
mod run;
mod sample;
mod secret;
mod snapshot;
mod snapshot_source;
mod storage;
mod storage_usage;
pub mod study;
pub mod synthetic;
mod validation;
mod vector;

pub use access::{AccessDenied, Caller, Role, UnknownRole};
pub use api_key::{API_KEY_PREFIX, ApiKey};
pub use connection::{Connection, ConnectionSpec, EMBEDDED_CONNECTION_NAME, EMBEDDED_CONNECTION_URL};
pub use dataset::{Dataset, DatasetSpec, InspectedColumn, InspectedFile, Inspection, SchemaConfig, SourceUri};
pub use distance::Distance;
pub use error::DomainError;
pub use experiment::{
    EfSearch, Experiment, ExperimentSpec, IndexConfig, IndexKind, IndexSource, OptimizerConfig, ProductCompression,
    Quantization, ScalarType, SearchConfig, SearchQuantization, UploadConfig,
};
pub use ids::{ApiKeyId, ConnectionId, DatasetId, ExperimentId, JobId, RunId, SnapshotId, StorageId};
pub use job::{Job, JobKind, JobRecord, JobStatus, NoopPayload, Progress, TransitionError, WorkerLabel};
pub use limits::Limits;
pub use local_access::LocalAccess;
pub use masked::{ConnectionSummary, StorageSummary};
pub use memory::{Bytes, MemoryEstimate, VectorFootprint};
pub use point::PointId;
pub use run::{BenchmarkPayload, Run, RunStatus};
pub use sample::PointSample;
pub use secret::{Secret, mask_secret};
pub use snapshot::{
    COLLECTION_PREFIX, RestorePayload, Snapshot, SnapshotArchive, SnapshotPayload, SnapshotSpec, SnapshotStatus,
    SnapshotVault, is_qbench_collection, run_collection, run_of_collection,
};
pub use snapshot_source::source_violations;
pub use storage::{ObjectStorage, StorageSpec, is_bucket_name};
pub use storage_usage::{StorageUsage, Usage, VectorUsage};
pub use validation::{
    ExperimentValidator, ValidationReport, Violation, validate_connection, validate_dataset, validate_storage,
};
pub use vector::{Dimension, VectorName, VectorSpec};
