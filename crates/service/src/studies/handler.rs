//! Executing a study: each build of its space is a trial run, queued like any run and executed by
//! whichever worker takes it; the study waits for each, then assembles the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use qbench_domain::report::RunReport;
use qbench_domain::study::{StudyPayload, StudyPoint, StudyReport, TrialReport, grid_cost};
use qbench_domain::{Experiment, Job, JobKind, Run, RunStatus};
use qbench_repository::{DatasetRepository, ExperimentRepository, JobQueue, RunRepository};

use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::studies::trial;
use crate::{Clock, Repositories};

/// How often a study looks at its current trial.
const POLL: Duration = Duration::from_millis(100);

/// Executes `study` jobs.
pub struct StudyHandler {
    experiments: Arc<dyn ExperimentRepository>,
    datasets: Arc<dyn DatasetRepository>,
    runs: Arc<dyn RunRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
}

impl StudyHandler {
    /// A handler storing trials in the experiments and runs of `repositories` and announcing them
    /// on their queue.
    pub fn new(repositories: &Repositories) -> Self {
        Self {
            experiments: repositories.experiments.clone(),
            datasets: repositories.datasets.clone(),
            runs: repositories.runs.clone(),
            queue: repositories.queue.clone(),
            clock: repositories.clock.clone(),
        }
    }

    /// Waits for `run` to end; on cancel, cancels it (its worker stops at the next heartbeat).
    async fn wait(&self, run: &Run, context: &JobContext) -> Result<Run, JobError> {
        loop {
            tokio::select! {
                () = context.cancel.cancelled() => {
                    self.cancel_trial(run).await;
                    return Err(JobError::Cancelled);
                }
                () = tokio::time::sleep(POLL) => {}
            }
            let current = self.runs.get(run.id()).await.map_err(|error| JobError::Failed(error.to_string()))?;
            if current.status().is_terminal() {
                return Ok(current);
            }
        }
    }

    async fn cancel_trial(&self, run: &Run) {
        for _ in 0..3 {
            let Ok(mut current) = self.runs.get(run.id()).await else { return };
            let status = current.status();
            if status.is_terminal() || current.cancel(self.clock.now()).is_err() {
                return;
            }
            if self.runs.update(&current, status).await.is_ok() {
                return;
            }
        }
        tracing::warn!(run_id = %run.id(), "the study's current trial could not be cancelled");
    }
}

#[async_trait]
impl JobHandler for StudyHandler {
    fn kind(&self) -> JobKind {
        JobKind::Study
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let failed = |what: &str, error: &dyn std::fmt::Display| JobError::Failed(format!("{what}: {error}"));
        let payload: StudyPayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("study payload", &error))?;
        let spec = payload.spec;
        let dataset = self.datasets.get(spec.dataset_id).await.map_err(|error| failed("dataset", &error))?;
        let started = Instant::now();
        let mut builds = spec.space.builds();
        let mut notes = Vec::new();
        if let Some(max) = spec.budget.max_builds
            && builds.len() > max as usize
        {
            notes.push(format!("budget.max_builds: {max} of the space's {} builds were made", builds.len()));
            builds.truncate(max as usize);
        }
        let total = builds.len() as u64;
        let short_id: String = job.id().to_string().chars().take(8).collect();
        let (mut trials, mut points) = (Vec::new(), Vec::new());
        for (index, build) in builds.iter().enumerate() {
            if context.cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            if let Some(max) = spec.budget.max_seconds
                && started.elapsed().as_secs() >= max
            {
                notes.push(format!(
                    "budget.max_seconds: {max} s had passed after {index} of {total} builds; the rest were not made"
                ));
                break;
            }
            let label = build.label();
            context.progress.enter_at(format!("trial {}/{total}: {label}", index + 1), index as u64, Some(total));
            let name = format!("study {short_id} · {label}");
            let experiment = Experiment::new(trial::experiment_spec(&spec, build, name), job.owner(), self.clock.now());
            self.experiments.insert(&experiment).await.map_err(|error| failed("trial experiment", &error))?;
            let queued = Instant::now();
            let run = Run::trial(&experiment, job.id(), job.owner(), self.clock.now());
            self.runs.insert(&run).await.map_err(|error| failed("trial run", &error))?;
            if let Err(error) = self.queue.enqueue(run.job().id()).await {
                tracing::warn!(run_id = %run.id(), %error, "trial stored but not announced to the queue");
            }
            let ended = self.wait(&run, context).await?;
            let seconds = queued.elapsed().as_secs_f64();
            let mut run_seconds = None;
            if ended.status() == RunStatus::Completed
                && let Some(report) = ended.metrics().and_then(|m| serde_json::from_value::<RunReport>(m.clone()).ok())
            {
                run_seconds = Some(report.total_seconds);
                points.extend(trial::points(build, &report).into_iter().map(|(vector, point)| StudyPoint {
                    run_id: ended.id().to_string(),
                    vector,
                    point,
                }));
            }
            trials.push(TrialReport {
                run_id: ended.id().to_string(),
                label,
                build: build.clone(),
                status: ended.status().as_str().to_owned(),
                error: ended.error().map(str::to_owned),
                seconds,
                run_seconds,
            });
            context.progress.enter_at(format!("trial {}/{total} done", index + 1), index as u64 + 1, Some(total));
        }
        let report = StudyReport::assemble(
            trials,
            points,
            &spec.objective,
            &spec.constraints,
            &dataset.spec.schema_config,
            grid_cost(&spec.space),
            started.elapsed().as_secs_f64(),
        )
        .map_err(|error| failed("study report", &error))?;
        let report = StudyReport { notes, ..report };
        let result = serde_json::to_value(&report).map_err(|error| failed("study report", &error))?;
        Ok(JobOutcome::Completed(result))
    }
}
