//! Submitting and reading reports.

use std::sync::Arc;

use qbench_domain::report::{ReportPayload, ReportSubject};
use qbench_domain::{Caller, Job, JobId, JobKind, JobStatus, Role, RunStatus, Violation};
use qbench_repository::{JobQueue, JobRepository, RepositoryError, RunRepository};

use crate::jobs::{seen_of_kind, submit};
use crate::{Clock, Repositories, ServiceError};

/// Use cases on reports. A report is a `report` job owned by its submitter, with the same access
/// rules as runs; it may only name runs and studies its submitter sees.
#[derive(Clone)]
pub struct ReportService {
    jobs: Arc<dyn JobRepository>,
    runs: Arc<dyn RunRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl ReportService {
    /// A service storing reports in the jobs of `repositories`.
    pub fn new(repositories: &Repositories) -> Self {
        Self {
            jobs: repositories.jobs.clone(),
            runs: repositories.runs.clone(),
            queue: repositories.queue.clone(),
            clock: repositories.clock.clone(),
        }
    }

    /// Queues a report of `payload` (editor): every run it names must be one the caller sees and
    /// `COMPLETED`, a study likewise; each that is not is a violation naming its field.
    pub async fn create(&self, caller: &Caller, payload: ReportPayload) -> Result<Job, ServiceError> {
        caller.require(Role::Editor)?;
        let violations = self.check(caller, &payload.subject).await?;
        if !violations.is_empty() {
            return Err(ServiceError::Invalid(violations));
        }
        let body = serde_json::to_value(&payload)
            .map_err(|error| ServiceError::Internal(format!("report payload: {error}")))?;
        let job = Job::new(JobId::new(), JobKind::Report, caller.user(), body, None, self.clock.now());
        submit(self.jobs.as_ref(), self.queue.as_ref(), &job).await?;
        Ok(job)
    }

    /// The report `id` (viewer, a report the caller sees).
    pub async fn get(&self, caller: &Caller, id: JobId) -> Result<Job, ServiceError> {
        caller.require(Role::Viewer)?;
        seen_of_kind(self.jobs.as_ref(), caller, id, JobKind::Report).await
    }

    /// What the subject names that cannot be reported.
    async fn check(&self, caller: &Caller, subject: &ReportSubject) -> Result<Vec<Violation>, ServiceError> {
        let mut violations = Vec::new();
        match subject {
            ReportSubject::Runs(ids) => {
                for (index, id) in ids.iter().enumerate() {
                    let field = format!("run_ids[{index}]");
                    match self.runs.get(*id).await {
                        Ok(run) if caller.sees(run.owner()) => {
                            if run.status() != RunStatus::Completed {
                                violations.push(Violation::new(
                                    field,
                                    format!("run {id} is {}: only a COMPLETED run has results to report", run.status()),
                                ));
                            }
                        }
                        Ok(_) | Err(RepositoryError::NotFound { .. }) => {
                            violations.push(Violation::new(field, format!("run {id} does not exist")));
                        }
                        Err(other) => return Err(other.into()),
                    }
                }
            }
            ReportSubject::Study(id) => match self.jobs.get(*id).await {
                Ok(job) if caller.sees(job.owner()) && job.kind() == JobKind::Study => {
                    if job.status() != JobStatus::Completed {
                        violations.push(Violation::new(
                            "study_id",
                            format!("study {id} is {}: only a COMPLETED study has a report", job.status()),
                        ));
                    }
                }
                Ok(_) | Err(RepositoryError::NotFound { .. }) => {
                    violations.push(Violation::new("study_id", format!("study {id} does not exist")));
                }
                Err(other) => return Err(other.into()),
            },
        }
        Ok(violations)
    }
}
