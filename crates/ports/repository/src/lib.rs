//! Persistence ports: the roles a database plays for qbench.
//!
//! One trait per aggregate ([`ConnectionRepository`], [`StorageRepository`],
//! [`DatasetRepository`], [`ExperimentRepository`], [`RunRepository`], [`ApiKeyRepository`], [`JobRepository`], [`WorkerRepository`],
//! [`SnapshotRepository`], [`BackfillRepository`]), plus
//! [`JobQueue`], which wakes workers for newly queued jobs to whatever executes them, and [`DatabaseHealth`] for probes. Every
//! trait is object-safe and `Send + Sync`, so the application wires `Arc<dyn …>` chosen at start-up.
//! Adapters translate their driver's errors into [`RepositoryError`]; no driver type crosses this
//! boundary.
#![deny(missing_docs)]

mod api_key;
mod backfill;
mod connection;
mod dataset;
mod error;
mod experiment;
mod health;
mod job;
mod page;
mod queue;
mod run;
mod snapshot;
mod storage;
mod worker;

pub use api_key::ApiKeyRepository;
pub use backfill::BackfillRepository;
pub use connection::ConnectionRepository;
pub use dataset::DatasetRepository;
pub use error::{Entity, RepositoryError};
pub use experiment::ExperimentRepository;
pub use health::DatabaseHealth;
pub use job::{ClaimRequest, HeartbeatReply, JobFilter, JobRepository, QueueStats};
pub use page::{Listed, Page};
pub use queue::{JobQueue, QueueError};
pub use run::{RunFilter, RunRepository};
pub use snapshot::{SnapshotFilter, SnapshotRepository};
pub use storage::StorageRepository;
pub use worker::{WorkerInfo, WorkerRepository};
