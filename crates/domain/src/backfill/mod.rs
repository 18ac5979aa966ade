//! Backfills: a dataset loaded into a named collection without being benchmarked, as a durable
//! job that can pause, resume and survive its worker.
//!
//! A [`BackfillSpec`] names the dataset, the engine and the collection, the index settings (given,
//! or a completed study's recommendation) and how to load (`FULL` into a new collection, or
//! `INCREMENTAL`: only what earlier backfills did not load). The `backfill` job carries it resolved
//! as a [`BackfillPayload`]. On its first execution the job is split into [`WorkItem`]s by
//! [`plan_items`] — one per Parquet file × range of row groups — which are stored, so whatever
//! stops the job (a pause, a lost worker) it continues with the items not yet `DONE`.

mod item;
mod plan;
mod spec;

pub use item::{ItemKey, WorkItem, WorkItemCounts, WorkItemStatus};
pub use plan::{ITEM_ROWS, PlanFile, plan_items};
pub use spec::{
    Backfill, BackfillMode, BackfillPayload, BackfillSpec, IndexSettings, recommended_optimizer, validate_optimizer,
};
