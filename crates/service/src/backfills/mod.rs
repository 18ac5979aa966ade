//! Backfills: a dataset loaded into a named collection without being benchmarked, by a `backfill`
//! job that splits the work into items stored in a [`qbench_repository::BackfillRepository`].
//!
//! [`BackfillService`] checks a request against stored state (dataset, connection, a completed
//! study's recommendation, the collection on the engine) and queues the job; pause, resume and
//! cancel are the job model's. [`BackfillHandler`] executes it: on the first execution it plans the
//! work items from the dataset's footers (`plan`), then creates or checks the collection
//! (`collection`) and loads the items not yet `DONE`, a few at a time, each read as its own range of
//! row groups and upserted with the dataset's ids (`load`), so an item done twice never duplicates a
//! point; it ends with `build_index` and the collection's point count.

mod collection;
mod handler;
mod load;
mod plan;
mod service;

pub use handler::BackfillHandler;
pub use service::{BackfillCommand, BackfillService};
