//! Durable jobs: one model for every kind of background work.
//!
//! A job is stored `CREATED`; a [`JobWorker`] claims it with a lease on the database's clock,
//! renews the lease with a heartbeat while the kind's [`JobHandler`] executes it, and records how
//! it ended. Cancel and pause reach the handler through its [`JobContext`]; a job whose worker
//! stops renewing is swept by any other worker (failed as `worker lost`, or handed back to the
//! queue when its kind can resume). [`JobService`] is the callers' side.

mod handler;
mod noop;
mod service;
mod submitted;
mod worker;

pub use handler::{JobContext, JobError, JobHandler, JobOutcome};
pub use noop::NoopHandler;
pub use service::{JobService, SeenWorker};
pub(crate) use submitted::{seen_of_kind, submit};
pub use worker::{EndObserver, JobWorker, WorkerSettings};
