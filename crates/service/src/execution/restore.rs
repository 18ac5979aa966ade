//! The `restore` phase of a run whose index comes from a snapshot: the archive streams from its
//! repository into the run's collection, checksum verified, in place of uploading and indexing.

use std::sync::Arc;
use std::time::Instant;

use qbench_domain::report::IndexSourceReport;
use qbench_vector_store::VectorStore;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::plan::{RestorePlan, RunPlan};
use crate::execution::{ExecutionDependencies, ExecutionError, Phase, ProgressSink};
use crate::snapshots::transfer::{TransferError, restore_archive};
use crate::snapshots::vault;

/// Restores `restore`'s snapshot as the run's collection; it must hold `expected_points`, the
/// points this run's dataset gives (train rows less the held-out queries), or the ground truth
/// would describe other data: the collection is then dropped and the run fails.
pub(crate) async fn restore_index(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    restore: &RestorePlan,
    store: &Arc<dyn VectorStore>,
    expected_points: u64,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<IndexSourceReport, ExecutionError> {
    let phase = Phase::Restore;
    let started = Instant::now();
    progress.enter(phase, Some(restore.archive.bytes));
    let sources = dependencies
        .sources
        .as_ref()
        .ok_or_else(|| ExecutionError::failed(phase, "this process cannot restore snapshots"))?;
    let snapshot = &restore.snapshot;
    let repository = vault::resolve(
        dependencies.storages.as_ref(),
        dependencies.defaults.local_access,
        &snapshot.owner,
        &snapshot.spec.vault,
    )
    .await
    .map_err(|error| ExecutionError::failed(phase, format!("snapshot {}'s repository: {error}", snapshot.id)))?;
    let reader = sources.archives.open_archive(&repository, &restore.archive.object).await.in_phase(phase)?;
    let collection = &plan.collection.name;
    let writer = store.restore(collection, false).await.in_phase(phase)?;
    let restored = restore_archive(reader, writer, snapshot, &restore.archive, collection, progress, cancel)
        .await
        .map_err(|error| match error {
            TransferError::Cancelled => ExecutionError::Cancelled,
            TransferError::Failed(message) => ExecutionError::failed(phase, message),
        })?;
    if restored.points != expected_points {
        if let Err(error) = store.drop_collection(collection).await {
            tracing::warn!(%collection, %error, "restored collection not dropped");
        }
        return Err(ExecutionError::failed(
            phase,
            format!(
                "snapshot {} holds {} points, but this run's dataset gives {expected_points} (its train rows less the \
                 queries held out): the ground truth would describe other data",
                snapshot.id, restored.points
            ),
        ));
    }
    Ok(IndexSourceReport {
        snapshot_id: snapshot.id,
        built_by_run_id: restore.built_by,
        sha256: restore.archive.sha256.clone(),
        bytes: restored.bytes,
        points: restored.points,
        restore_seconds: started.elapsed().as_secs_f64(),
    })
}
