//! Executing runs: claim a queued run, load its dataset into the Qdrant under test, build the
//! index, fire the test queries and record honest metrics.
//!
//! A run is a `benchmark` job: the [`crate::jobs::JobWorker`] claims it with a lease and keeps
//! the lease alive while [`BenchmarkHandler`] has a [`RunExecutor`] run [`execute`] through the phases (`prepare`, `create_collection`, `upload`, `index`,
//! `search`, `cleanup`); a cancelled or lost run is noticed at the next heartbeat.

mod benchmark;
mod dependencies;
mod error;
mod executor;
mod fingerprint;
mod ground_truth;
mod phase;
pub(crate) mod plan;
mod progress;
mod queries;
mod report;
mod restore;
mod run;
mod run_log;
mod search;
mod upload;

pub(crate) use upload::point_at;

pub use benchmark::BenchmarkHandler;
pub use dependencies::{ExecutionDefaults, ExecutionDependencies, SnapshotSources};
pub use error::ExecutionError;
pub use executor::{InProcessExecutor, RunExecutor};
pub use phase::Phase;
pub use progress::{PhaseEntry, ProgressSink};
pub use run::{RunOutcome, execute};
pub use run_log::lines as log_lines;
