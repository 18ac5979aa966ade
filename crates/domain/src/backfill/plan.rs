//! Splitting a dataset's train files into work items.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::backfill::{ItemKey, WorkItem, WorkItemStatus};
use crate::{ConnectionId, JobId};

/// Rows a work item aims at: enough that an item's overhead (opening the file, one status write)
/// is small, few enough that an item redone after a lost worker costs seconds, not minutes.
pub const ITEM_ROWS: u64 = 100_000;

/// A train file as the planner needs it: identity and the rows of each row group, from its footer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanFile {
    /// Its location.
    pub location: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its version (ETag or modification time), when the store reports one.
    pub version: Option<String>,
    /// Rows of each row group, in order.
    pub row_group_rows: Vec<u64>,
}

/// The work items of backfill `backfill_id` into `collection` of `connection_id`: each file (in
/// reading order) cut into ranges of whole row groups of about `item_rows` rows (a row group is
/// never split; one larger than `item_rows` is an item of its own), leaving out the ranges whose
/// key is in `loaded`. Rows keep their number across files whether skipped or not, so a dataset
/// without an id column gives each point the id it would get from a full read.
pub fn plan_items(
    backfill_id: JobId,
    (connection_id, collection): (ConnectionId, &str),
    files: &[PlanFile],
    loaded: &HashSet<ItemKey>,
    item_rows: u64,
    now: DateTime<Utc>,
) -> Vec<WorkItem> {
    let mut items = Vec::new();
    let mut first_row = 0_u64;
    for file in files {
        let mut start = 0_usize;
        while start < file.row_group_rows.len() {
            let mut end = start;
            let mut rows = 0_u64;
            while end < file.row_group_rows.len() && (end == start || rows + file.row_group_rows[end] <= item_rows) {
                rows += file.row_group_rows[end];
                end += 1;
            }
            let item = WorkItem {
                backfill_id,
                ordinal: u32::try_from(items.len()).unwrap_or(u32::MAX),
                connection_id,
                collection: collection.to_owned(),
                location: file.location.clone(),
                bytes: file.bytes,
                version: file.version.clone(),
                row_groups: u32::try_from(start).unwrap_or(u32::MAX)..u32::try_from(end).unwrap_or(u32::MAX),
                first_row,
                rows,
                status: WorkItemStatus::Pending,
                attempts: 0,
                points: 0,
                last_error: None,
                updated_at: now,
            };
            if !loaded.contains(&item.key()) && rows > 0 {
                items.push(item);
            }
            first_row += rows;
            start = end;
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, groups: &[u64]) -> PlanFile {
        PlanFile {
            location: name.to_owned(),
            bytes: groups.iter().sum::<u64>() * 40,
            version: Some(format!("etag-{name}")),
            row_group_rows: groups.to_vec(),
        }
    }

    fn plan(files: &[PlanFile], loaded: &HashSet<ItemKey>) -> Vec<WorkItem> {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
        plan_items(JobId::new(), (ConnectionId::new(), "qbench-docs"), files, loaded, 100, now)
    }

    fn shape(items: &[WorkItem]) -> Vec<(u32, &str, std::ops::Range<u32>, u64, u64)> {
        items.iter().map(|i| (i.ordinal, i.location.as_str(), i.row_groups.clone(), i.first_row, i.rows)).collect()
    }

    #[test]
    fn files_are_cut_into_whole_row_groups_of_about_item_rows_numbering_rows_across_files() {
        let files = [file("a", &[40, 40, 40, 150, 10]), file("b", &[60]), file("empty", &[]), file("c", &[0, 30])];
        let items = plan(&files, &HashSet::new());
        assert_eq!(
            shape(&items),
            [
                (0, "a", 0..2, 0, 80),
                (1, "a", 2..3, 80, 40),
                (2, "a", 3..4, 120, 150),
                (3, "a", 4..5, 270, 10),
                (4, "b", 0..1, 280, 60),
                (5, "c", 0..2, 340, 30),
            ]
        );
        assert!(items.iter().all(|item| item.status == WorkItemStatus::Pending && item.attempts == 0));
        assert_eq!(items.iter().map(|item| item.rows).sum::<u64>(), 370, "every row exactly once");
    }

    #[test]
    fn ranges_already_loaded_are_left_out_and_the_rest_keep_their_row_numbers() {
        let files = [file("a", &[40, 40, 40]), file("b", &[60])];
        let everything = plan(&files, &HashSet::new());
        let loaded: HashSet<ItemKey> = everything.iter().take(2).map(WorkItem::key).collect();
        assert_eq!(shape(&plan(&files, &loaded)), [(0, "b", 0..1, 120, 60)]);

        // The same location rewritten (another version) is loaded again.
        let mut rewritten = files.clone();
        rewritten[0].version = Some("etag-a-2".to_owned());
        assert_eq!(plan(&rewritten, &loaded).len(), 3);
    }
}
