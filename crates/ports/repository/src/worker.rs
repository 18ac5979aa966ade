//! The workers a deployment has seen: who they are and when they last spoke.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use qbench_domain::WorkerLabel;

use crate::RepositoryError;

/// A worker process as it announces itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerInfo {
    /// Its name, as recorded in `claimed_by`.
    pub id: String,
    /// The host it runs on.
    pub host: String,
    /// The labels it carries.
    pub labels: Vec<WorkerLabel>,
    /// Benchmarks it executes at once.
    pub max_concurrent_runs: u32,
    /// Other jobs it executes at once beside them.
    pub max_concurrent_jobs: u32,
    /// When it started, on the database's clock.
    pub started_at: DateTime<Utc>,
    /// When it last announced itself, on the database's clock.
    pub last_seen: DateTime<Utc>,
}

/// Remembers the workers that announce themselves.
///
/// # Errors
/// `Unavailable` when the database cannot be reached.
#[async_trait]
pub trait WorkerRepository: Send + Sync {
    /// Records `worker` (inserted or replaced), its `last_seen` set to the database's clock.
    async fn announce(&self, worker: &WorkerInfo) -> Result<(), RepositoryError>;
    /// Workers whose `last_seen` is within `window` of the database's clock, by id.
    async fn seen_within(&self, window: Duration) -> Result<Vec<WorkerInfo>, RepositoryError>;
}
