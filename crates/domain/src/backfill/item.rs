//! Work items: one Parquet file's range of row groups, loaded (or not) as one unit.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::{ConnectionId, DomainError, JobId};

/// Where a work item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WorkItemStatus {
    /// Not loaded yet.
    Pending,
    /// Being loaded; an item a lost worker left `RUNNING` is loaded again.
    Running,
    /// Loaded: its points are in the collection.
    Done,
    /// Gave up after its attempts; `last_error` says why.
    Failed,
}

impl WorkItemStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::Pending, Self::Running, Self::Done, Self::Failed];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Running => "RUNNING",
            Self::Done => "DONE",
            Self::Failed => "FAILED",
        }
    }
}

impl fmt::Display for WorkItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkItemStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str() == s).ok_or_else(|| {
            DomainError::invalid(
                "status",
                format!("unknown work item status `{s}`; expected PENDING, RUNNING, DONE or FAILED"),
            )
        })
    }
}

/// What identifies the data a work item loads: the file by location, size and version (its ETag
/// or modification time), and the row groups. An incremental backfill skips the items whose key an
/// earlier backfill into the same collection loaded.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemKey {
    /// The file's location.
    pub location: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its version, when the store reports one.
    pub version: Option<String>,
    /// The row groups, `[start, end)`.
    pub row_groups: Range<u32>,
}

/// One unit of a backfill: rows `row_groups` of one file, upserted into the collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkItem {
    /// The backfill (its job).
    pub backfill_id: JobId,
    /// Its place in the backfill's plan, from 0.
    pub ordinal: u32,
    /// The engine loaded.
    pub connection_id: ConnectionId,
    /// The collection loaded.
    pub collection: String,
    /// The file's location, as the dataset reader names it.
    pub location: String,
    /// The file's size in bytes when planned.
    pub bytes: u64,
    /// The file's version when planned, when the store reports one.
    pub version: Option<String>,
    /// The row groups read, `[start, end)`.
    pub row_groups: Range<u32>,
    /// The number of the range's first row among the dataset's train rows (numbered across
    /// files in order): the ids of a dataset without an id column.
    pub first_row: u64,
    /// Rows in the range.
    pub rows: u64,
    /// Where it is.
    pub status: WorkItemStatus,
    /// How many times loading it started.
    pub attempts: u32,
    /// Points upserted, once `DONE`.
    pub points: u64,
    /// Why its last attempt failed.
    pub last_error: Option<String>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl WorkItem {
    /// What identifies the data it loads.
    pub fn key(&self) -> ItemKey {
        ItemKey {
            location: self.location.clone(),
            bytes: self.bytes,
            version: self.version.clone(),
            row_groups: self.row_groups.clone(),
        }
    }

    /// An attempt starts.
    pub fn start(&mut self, now: DateTime<Utc>) {
        self.status = WorkItemStatus::Running;
        self.attempts = self.attempts.saturating_add(1);
        self.updated_at = now;
    }

    /// Loaded, with `points` upserted.
    pub fn done(&mut self, points: u64, now: DateTime<Utc>) {
        self.status = WorkItemStatus::Done;
        self.points = points;
        self.updated_at = now;
    }

    /// The attempt failed with `error`; the item waits for the next one.
    pub fn retry(&mut self, error: impl Into<String>, now: DateTime<Utc>) {
        self.status = WorkItemStatus::Pending;
        self.last_error = Some(error.into());
        self.updated_at = now;
    }

    /// No attempt is left: it failed with `error`.
    pub fn fail(&mut self, error: impl Into<String>, now: DateTime<Utc>) {
        self.status = WorkItemStatus::Failed;
        self.last_error = Some(error.into());
        self.updated_at = now;
    }
}

/// A backfill's work items counted by status, with the rows planned and the points loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkItemCounts {
    /// `PENDING` items.
    pub pending: u64,
    /// `RUNNING` items.
    pub running: u64,
    /// `DONE` items.
    pub done: u64,
    /// `FAILED` items.
    pub failed: u64,
    /// Rows of every item: the points the backfill loads.
    pub rows: u64,
    /// Points of the `DONE` items.
    pub points: u64,
}

impl WorkItemCounts {
    /// Items in all.
    pub fn total(&self) -> u64 {
        self.pending + self.running + self.done + self.failed
    }

    /// Counts `item` in.
    pub fn add(&mut self, item: &WorkItem) {
        match item.status {
            WorkItemStatus::Pending => self.pending += 1,
            WorkItemStatus::Running => self.running += 1,
            WorkItemStatus::Done => {
                self.done += 1;
                self.points += item.points;
            }
            WorkItemStatus::Failed => self.failed += 1,
        }
        self.rows += item.rows;
    }
}

impl<'a> FromIterator<&'a WorkItem> for WorkItemCounts {
    fn from_iter<I: IntoIterator<Item = &'a WorkItem>>(items: I) -> Self {
        let mut counts = Self::default();
        items.into_iter().for_each(|item| counts.add(item));
        counts
    }
}
