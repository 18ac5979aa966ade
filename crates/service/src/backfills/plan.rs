//! From the dataset's footers to work items, and the check that what was planned is still there.

use qbench_domain::backfill::{PlanFile, WorkItem};
use qbench_storage::{DatasetInspection, FileRole};

use crate::jobs::JobError;

/// The train files of `inspection`, in reading order, as the planner takes them.
pub(super) fn plan_files(inspection: &DatasetInspection) -> Vec<PlanFile> {
    inspection
        .files
        .iter()
        .filter(|file| file.role == FileRole::Train)
        .map(|file| PlanFile {
            location: file.location.clone(),
            bytes: file.bytes,
            version: file.version.clone(),
            row_group_rows: file.row_group_rows.clone(),
        })
        .collect()
}

/// Fails naming the first file an unfinished item reads that is gone or was rewritten (another
/// size or version) since the backfill was planned: its row groups no longer hold the rows
/// planned, and loading them would mix two versions of the data.
pub(super) fn ensure_unchanged(unfinished: &[WorkItem], inspection: &DatasetInspection) -> Result<(), JobError> {
    let files = plan_files(inspection);
    for item in unfinished {
        let now = files.iter().find(|file| file.location == item.location);
        let changed = match now {
            None => "is no longer one of the dataset's train files".to_owned(),
            Some(file) if file.bytes != item.bytes || file.version != item.version => format!(
                "was rewritten ({} bytes, version {}; planned: {} bytes, version {})",
                file.bytes,
                file.version.as_deref().unwrap_or("unknown"),
                item.bytes,
                item.version.as_deref().unwrap_or("unknown")
            ),
            Some(_) => continue,
        };
        return Err(JobError::Failed(format!(
            "plan: {} {changed} since the backfill was planned; the items loaded stay: start an INCREMENTAL \
             backfill to load the rest",
            item.location
        )));
    }
    Ok(())
}
