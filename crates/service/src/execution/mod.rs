//! Executing runs: claim a queued run, load its dataset into the Qdrant under test, build the
//! index, fire the test queries and record honest metrics.
//!
//! [`RunWorker`] claims runs from the database with a lease and keeps the lease alive while
//! [`execute`] goes through the phases (`prepare`, `create_collection`, `upload`, `index`,
//! `search`, `cleanup`); a cancelled or lost run is noticed at the next heartbeat.

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
mod run;
mod search;
mod upload;
mod worker;

pub use dependencies::{ExecutionDefaults, ExecutionDependencies};
pub use error::ExecutionError;
pub use executor::{InProcessExecutor, RunExecutor};
pub use phase::Phase;
pub use progress::ProgressSink;
pub use run::{RunOutcome, execute};
pub use worker::{RunWorker, WorkerSettings};
