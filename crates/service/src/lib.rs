//! qbench's use cases: register connections, storages, datasets and experiments; create, read,
//! list and cancel runs.
//!
//! Each service ([`ConnectionService`], [`StorageService`], [`DatasetService`],
//! [`ExperimentService`], [`RunService`]) depends only on the domain and on port traits, held as
//! `Arc<dyn …>` in [`Repositories`]. Every use case takes the [`Caller`](qbench_domain::Caller) it
//! acts for and checks role and ownership itself, before anything else, so no edge can forget
//! to; [`ApiKeyService`]'s operator commands are the exception (the CLI runs them with the
//! database in reach), and its `authenticate` turns a presented key into a caller. Errors are
//! one [`ServiceError`] enum that the edge maps to HTTP or CLI messages.
#![deny(missing_docs)]

mod access;
mod api_keys;
pub mod backfills;
mod clock;
mod collection_names;
mod connections;
mod datasets;
mod error;
pub mod execution;
mod experiments;
pub mod jobs;
mod memory_budget;
pub mod reports;
mod repositories;
mod runs;
pub mod snapshots;
mod sources;
mod storages;
pub mod studies;
pub mod synthetic;

pub use api_keys::ApiKeyService;
pub use clock::{Clock, ManualClock, SystemClock};
pub use connections::{ConnectionService, EngineStats};
pub use datasets::DatasetService;
pub use error::ServiceError;
pub use experiments::ExperimentService;
pub use memory_budget::MemoryBudget;
pub use repositories::Repositories;
pub use runs::RunService;
pub use storages::StorageService;
