//! Test support shared by the service, adapter and app tests.
//!
//! - [`memory::InMemoryDatabase`] is a fake of every repository port that honours their contracts
//!   exactly, and [`memory::RecordingJobQueue`] a job queue that records what it is told;
//!   [`memory::in_memory_repositories`] wires both into the services' `Repositories`.
//! - [`contract`] is the suite every repository adapter must pass: [`contract::check_repository_contract`]
//!   runs it against a [`contract::RepositoryUnderTest`]. The in-memory fake, SQLite and
//!   PostgreSQL all run the same suite, which is what keeps the fake honest.
//! - [`postgres::PostgresCluster`] starts a throwaway PostgreSQL server for tests.
//! - [`vector_store::InMemoryVectorStore`] (exact search, switchable to slow, unreachable or wrong)
//!   and [`dataset::InMemoryDatasetReader`] with [`dataset::RecordingResultWriter`] fake the
//!   engine's ports for run-execution tests.
#![deny(missing_docs)]

pub mod contract;
pub mod dataset;
pub mod memory;
pub mod postgres;
mod queue;
pub mod s3;
pub mod vector_store;
mod watchdog;

pub use memory::{InMemoryDatabase, RecordingJobQueue, in_memory_repositories, in_memory_repositories_with_clock};
