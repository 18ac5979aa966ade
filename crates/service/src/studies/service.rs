//! Submitting and reading studies.

use std::sync::Arc;

use qbench_domain::study::{SpaceSize, StudyLimits, StudyPayload, StudySpec, StudyValidator};
use qbench_domain::{Caller, Job, JobId, JobKind, LocalAccess, Role, ValidationReport, Violation};
use qbench_repository::{
    ConnectionRepository, DatasetRepository, JobQueue, JobRepository, RepositoryError, StorageRepository,
};
use qbench_storage::ArchiveStore;

use crate::jobs::{seen_of_kind, submit};
use crate::snapshots::vault;
use crate::{Clock, Repositories, ServiceError};

/// Use cases on studies. A study is a `study` job owned by its submitter, with the same access
/// rules as runs; cancelling it is [`crate::jobs::JobService::cancel`].
#[derive(Clone)]
pub struct StudyService {
    jobs: Arc<dyn JobRepository>,
    datasets: Arc<dyn DatasetRepository>,
    connections: Arc<dyn ConnectionRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    limits: StudyLimits,
    storages: Arc<dyn StorageRepository>,
    archives: Option<(Arc<dyn ArchiveStore>, LocalAccess)>,
}

impl StudyService {
    /// A service storing studies in the jobs of `repositories`, checked against their datasets and
    /// connections, and refused past `limits`.
    pub fn new(repositories: &Repositories, limits: StudyLimits) -> Self {
        Self {
            jobs: repositories.jobs.clone(),
            datasets: repositories.datasets.clone(),
            connections: repositories.connections.clone(),
            queue: repositories.queue.clone(),
            clock: repositories.clock.clone(),
            limits,
            storages: repositories.storages.clone(),
            archives: None,
        }
    }

    /// The service checking that a study's `keep_snapshots` repository can hold archives, through
    /// `archives`; a directory lies in its owner's area of the data roots under `access`.
    #[must_use]
    pub fn with_archives(mut self, archives: Arc<dyn ArchiveStore>, access: LocalAccess) -> Self {
        self.archives = Some((archives, access));
        self
    }

    /// Every error and warning of `spec` and the size it expands to (viewer): an unknown dataset
    /// or connection, and everything [`StudyValidator`] finds against the dataset.
    pub async fn validate(
        &self,
        caller: &Caller,
        spec: &StudySpec,
    ) -> Result<(ValidationReport, SpaceSize), ServiceError> {
        caller.require(Role::Viewer)?;
        let mut report = match self.datasets.get(spec.dataset_id).await {
            Ok(dataset) if caller.sees(&dataset.owner) => {
                StudyValidator::new(&dataset.spec.schema_config, self.limits).validate(spec)
            }
            Ok(_) | Err(RepositoryError::NotFound { .. }) => ValidationReport {
                errors: vec![Violation::new("dataset_id", format!("dataset {} does not exist", spec.dataset_id))],
                warnings: Vec::new(),
            },
            Err(other) => return Err(other.into()),
        };
        // Points of different vectors do not compete: a recommendation is for one vector.
        let searched = spec.vectors.as_ref().map_or(spec.space.vectors.len(), Vec::len);
        if searched > 1 {
            report.errors.push(Violation::new(
                "vectors",
                format!(
                    "{searched} vectors searched; a study recommends for one vector at a time: name it in `vectors`"
                ),
            ));
        }
        match self.connections.get(spec.connection_id).await {
            Ok(_) => {}
            Err(RepositoryError::NotFound { .. }) => report
                .errors
                .push(Violation::new("connection_id", format!("connection {} does not exist", spec.connection_id))),
            Err(other) => return Err(other.into()),
        }
        if let Some(vault) = &spec.keep_snapshots {
            match &self.archives {
                Some((archives, access)) => {
                    let checked = vault::check(
                        self.storages.as_ref(),
                        archives.as_ref(),
                        *access,
                        caller.user(),
                        vault,
                        "keep_snapshots",
                    )
                    .await;
                    match checked {
                        Ok(_) => {}
                        Err(ServiceError::Invalid(violations)) => report.errors.extend(violations),
                        Err(other) => return Err(other),
                    }
                }
                None => report.errors.push(Violation::new("keep_snapshots", "this server cannot keep snapshots")),
            }
        }
        Ok((report, spec.space.count()))
    }

    /// Queues a valid study of the caller (editor); returns its job.
    pub async fn create(&self, caller: &Caller, spec: StudySpec) -> Result<Job, ServiceError> {
        caller.require(Role::Editor)?;
        let (report, _) = self.validate(caller, &spec).await?;
        if !report.is_valid() {
            return Err(ServiceError::Invalid(report.errors));
        }
        let payload = serde_json::to_value(StudyPayload { spec })
            .map_err(|error| ServiceError::Internal(format!("study payload: {error}")))?;
        let job = Job::new(JobId::new(), JobKind::Study, caller.user(), payload, None, self.clock.now());
        submit(self.jobs.as_ref(), self.queue.as_ref(), &job).await?;
        Ok(job)
    }

    /// The study `id` (viewer, a study the caller sees).
    pub async fn get(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        caller.require(Role::Viewer)?;
        seen_of_kind(self.jobs.as_ref(), caller, id, JobKind::Study).await
    }
}
