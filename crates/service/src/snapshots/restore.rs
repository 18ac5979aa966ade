//! The `restore` job: streams a snapshot's archive from its repository into an engine, verifies
//! its size and SHA-256 against the snapshot's before the engine restores anything, and checks
//! the restored collection holds the points the snapshot recorded.

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::{Job, JobKind, LocalAccess, RestorePayload, SnapshotStatus};
use qbench_repository::SnapshotRepository;
use qbench_storage::ArchiveStore;
use qbench_vector_store::VectorStoreProvider;

use crate::Repositories;
use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::snapshots::handler::{Archiver, failed};
use crate::snapshots::transfer::{TransferError, restore_archive};

/// Restores snapshots for `restore` jobs.
pub struct RestoreHandler {
    snapshots: Arc<dyn SnapshotRepository>,
    archiver: Archiver,
}

impl RestoreHandler {
    /// A handler reading archives through `archives` and writing engines through `stores`.
    pub fn new(
        repositories: &Repositories,
        archives: Arc<dyn ArchiveStore>,
        stores: Arc<dyn VectorStoreProvider>,
        access: LocalAccess,
    ) -> Self {
        Self {
            snapshots: repositories.snapshots.clone(),
            archiver: Archiver::new(repositories, archives, stores, access),
        }
    }
}

#[async_trait]
impl JobHandler for RestoreHandler {
    fn kind(&self) -> JobKind {
        JobKind::Restore
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let payload: RestorePayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("restore payload", &error))?;
        let snapshot = self.snapshots.get(payload.snapshot_id).await.map_err(|error| failed("snapshot", &error))?;
        let archive = match (&snapshot.archive, snapshot.status) {
            (Some(archive), SnapshotStatus::Ready) => archive,
            (_, status) => return Err(JobError::Failed(format!("snapshot {} is {status}, not READY", snapshot.id))),
        };
        let store = self.archiver.store_of(payload.connection_id).await?;
        let repository = self.archiver.repository_of(&snapshot).await?;
        let reader = self.archiver.open_archive(&repository, &archive.object).await?;
        let writer = store
            .restore(&payload.collection, payload.overwrite)
            .await
            .map_err(|error| failed("collection", &error))?;
        context.progress.enter("transfer", Some(archive.bytes));
        let restored = restore_archive(
            reader,
            writer,
            &snapshot,
            archive,
            &payload.collection,
            &context.progress,
            &context.cancel,
        )
        .await
        .map_err(|error| match error {
            TransferError::Cancelled => JobError::Cancelled,
            TransferError::Failed(message) => JobError::Failed(message),
        })?;
        Ok(JobOutcome::Completed(serde_json::json!({
            "snapshot_id": snapshot.id,
            "connection_id": payload.connection_id,
            "collection": payload.collection,
            "points": restored.points,
            "bytes": restored.bytes,
            "sha256": archive.sha256,
        })))
    }
}
