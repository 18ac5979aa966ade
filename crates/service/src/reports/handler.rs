//! The `report` job: reads what it reports from storage and the database, renders the page, and
//! stores it beside the results.

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::report::{ReportPayload, ReportSubject, RunReport};
use qbench_domain::study::{StudyPayload, StudyReport};
use qbench_domain::{Job, JobKind, Progress, RunId};
use qbench_report::{ReportRun, ReportStudy, render_runs, render_study};
use qbench_repository::{JobRepository, RunRepository};
use qbench_storage::{Artifact, ResultWriter};

use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::{Clock, Repositories};

/// Renders `report` jobs.
pub struct ReportHandler {
    jobs: Arc<dyn JobRepository>,
    runs: Arc<dyn RunRepository>,
    results: Arc<dyn ResultWriter>,
    clock: Arc<dyn Clock>,
}

impl ReportHandler {
    /// A handler reading runs and studies from `repositories` and results from `results`, where
    /// it also stores the pages.
    pub fn new(repositories: &Repositories, results: Arc<dyn ResultWriter>) -> Self {
        Self {
            jobs: repositories.jobs.clone(),
            runs: repositories.runs.clone(),
            results,
            clock: repositories.clock.clone(),
        }
    }

    /// Run `id` as the report shows it: its stored `result.json`, its settings and its name.
    async fn run(&self, id: RunId) -> Result<ReportRun, JobError> {
        let run = self.runs.get(id).await.map_err(|error| failed(&format!("run {id}"), &error))?;
        let bytes = self
            .results
            .read_artifact(&id.to_string(), Artifact::ResultJson)
            .await
            .map_err(|error| failed(&format!("run {id}'s result"), &error))?;
        let report: RunReport =
            serde_json::from_slice(&bytes).map_err(|error| failed(&format!("run {id}'s result.json"), &error))?;
        Ok(ReportRun::of(&run, report))
    }
}

fn failed(what: &str, error: &dyn std::fmt::Display) -> JobError {
    JobError::Failed(format!("{what}: {error}"))
}

#[async_trait]
impl JobHandler for ReportHandler {
    fn kind(&self) -> JobKind {
        JobKind::Report
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let payload: ReportPayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("report payload", &error))?;
        let now = self.clock.now();
        let html = match &payload.subject {
            ReportSubject::Runs(ids) => {
                context.progress.set(Progress {
                    phase: "read".to_owned(),
                    done: 0,
                    total: Some(ids.len() as u64),
                    rate: None,
                });
                let mut runs = Vec::with_capacity(ids.len());
                for id in ids {
                    if context.cancel.is_cancelled() {
                        return Err(JobError::Cancelled);
                    }
                    runs.push(self.run(*id).await?);
                    context.progress.advance(1);
                }
                let title = payload.title.clone().unwrap_or_else(|| match runs.as_slice() {
                    [one] => format!("Run of {}", one.label),
                    many => format!("{} runs compared", many.len()),
                });
                context.progress.enter("render", None);
                render_runs(&title, &runs, now).map_err(|error| failed("render", &error))?
            }
            ReportSubject::Study(id) => {
                context.progress.enter("read", Some(1));
                let study = self.jobs.get(*id).await.map_err(|error| failed(&format!("study {id}"), &error))?;
                let result = study.result().ok_or_else(|| JobError::Failed(format!("study {id} has no report")))?;
                let report: StudyReport = serde_json::from_value(result.clone())
                    .map_err(|error| failed(&format!("study {id}'s report"), &error))?;
                let name = serde_json::from_value::<StudyPayload>(study.payload().clone())
                    .map_or_else(|_| id.to_string(), |payload| payload.spec.name);
                context.progress.enter("render", None);
                let study = ReportStudy { id: id.to_string(), name: payload.title.clone().unwrap_or(name), report };
                render_study(&study, now).map_err(|error| failed("render", &error))?
            }
        };
        context.progress.enter("store", None);
        let bytes = html.len();
        let location = self
            .results
            .write_artifact(&job.id().to_string(), Artifact::Report, html.into_bytes())
            .await
            .map_err(|error| failed("store", &error))?;
        Ok(JobOutcome::Completed(serde_json::json!({ "location": location, "bytes": bytes })))
    }
}
