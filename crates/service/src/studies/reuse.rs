//! A study's builds as snapshots: each configuration built on all the points may be kept as a
//! snapshot (`keep_snapshots`), and a build whose snapshot exists — the same dataset, vectors and
//! index settings, the study owner's — is restored instead of built.

use std::sync::Arc;

use qbench_domain::{
    DatasetId, ExperimentSpec, IndexSource, OptimizerConfig, Run, Snapshot, SnapshotSpec, SnapshotStatus,
    run_collection, source_violations,
};
use qbench_repository::{Page, RunRepository, SnapshotFilter, SnapshotRepository};
use tokio_util::sync::CancellationToken;

use crate::Clock;
use crate::execution::ProgressSink;
use crate::jobs::JobError;
use crate::snapshots::handler::Archiver;

/// A snapshot a study may restore, with the settings of the run that built what it holds.
#[derive(Debug, Clone)]
pub(crate) struct Reusable {
    snapshot: Snapshot,
    building: ExperimentSpec,
}

/// The snapshots of a study's owner and the means to keep new ones.
#[derive(Clone)]
pub(crate) struct StudySnapshots {
    pub(crate) snapshots: Arc<dyn SnapshotRepository>,
    pub(crate) runs: Arc<dyn RunRepository>,
    pub(crate) archiver: Archiver,
}

impl StudySnapshots {
    /// The `READY` snapshots of `owner` built by runs of `dataset_id`.
    pub(crate) async fn reusable(&self, owner: &str, dataset_id: DatasetId) -> Result<Vec<Reusable>, JobError> {
        let filter = SnapshotFilter {
            status: Some(SnapshotStatus::Ready),
            owner: Some(owner.to_owned()),
            ..SnapshotFilter::default()
        };
        let listed = self
            .snapshots
            .list(filter, Page { limit: Page::MAX_LIMIT, offset: 0 })
            .await
            .map_err(|error| JobError::Failed(format!("snapshots: {error}")))?;
        let mut reusable = Vec::new();
        for snapshot in listed.items {
            let Some(run_id) = snapshot.built_by else { continue };
            let Ok(run) = self.runs.get(run_id).await else { continue };
            if let Some(building) = run.settings().filter(|building| building.dataset_id == dataset_id) {
                reusable.push(Reusable { building: building.clone(), snapshot });
            }
        }
        Ok(reusable)
    }

    /// Turns `spec` (a trial building on all the points) into one restoring a snapshot of the
    /// same build when one of `reusable` holds it; answers the snapshot used.
    pub(crate) fn restore_instead(spec: &mut ExperimentSpec, reusable: &[Reusable]) -> Option<Snapshot> {
        let mut restoring = spec.clone();
        restoring.optimizer_config = OptimizerConfig::default();
        for candidate in reusable {
            restoring.source = Some(IndexSource { snapshot_id: candidate.snapshot.id });
            let same_build = candidate.building.optimizer_config == spec.optimizer_config;
            if same_build && source_violations(&restoring, &candidate.snapshot, Some(&candidate.building)).is_empty() {
                *spec = restoring;
                return Some(candidate.snapshot.clone());
            }
        }
        None
    }

    /// Keeps the collection of `run` (a completed trial that kept it) as a snapshot in `spec`'s
    /// repository, then drops the collection; answers the snapshot, `READY` or `FAILED`.
    pub(crate) async fn keep(
        &self,
        clock: &dyn Clock,
        run: &Run,
        vault: qbench_domain::SnapshotVault,
        connection_id: qbench_domain::ConnectionId,
        cancel: &CancellationToken,
    ) -> Result<Snapshot, JobError> {
        let collection = run_collection(run.id());
        let spec = SnapshotSpec { connection_id, collection: collection.clone(), vault };
        let mut snapshot = Snapshot::new(spec, run.owner(), run.job().id(), clock.now());
        self.snapshots
            .insert(&snapshot)
            .await
            .map_err(|error| JobError::Failed(format!("snapshot record: {error}")))?;
        let progress = ProgressSink::starting_at(qbench_domain::Progress::queued());
        let archived =
            self.archiver.archive_and_record(self.snapshots.as_ref(), clock, &mut snapshot, &progress, cancel).await;
        if let Err(error) = self.archiver.drop_collection(connection_id, &collection).await {
            tracing::warn!(run_id = %run.id(), %collection, %error, "a kept trial collection was not dropped");
        }
        match archived {
            Ok(_) => Ok(snapshot),
            Err(JobError::Cancelled) => Err(JobError::Cancelled),
            // A build that could not be kept is still measured: the study goes on.
            Err(JobError::Failed(message)) => {
                tracing::warn!(run_id = %run.id(), %message, "a trial's build was not kept as a snapshot");
                Ok(snapshot)
            }
        }
    }
}

impl Reusable {
    /// A snapshot just kept of a build made with `building`.
    pub(crate) fn kept(snapshot: Snapshot, building: ExperimentSpec) -> Self {
        Self { snapshot, building }
    }
}
