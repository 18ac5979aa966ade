//! The `noop` kind: steps that do nothing, to measure the queue and exercise pause and resume.

use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::{Job, JobKind, NoopPayload};

use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};

/// Executes `noop` jobs: each step is a safe point, so it can pause, resume and be handed back
/// after a lost worker without redoing a step.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoopHandler;

#[async_trait]
impl JobHandler for NoopHandler {
    fn kind(&self) -> JobKind {
        JobKind::Noop
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let payload: NoopPayload = serde_json::from_value(job.payload().clone())
            .map_err(|error| JobError::Failed(format!("payload: {error}")))?;
        let steps = payload.steps.min(NoopPayload::MAX_STEPS);
        let step = Duration::from_millis(payload.step_ms.min(NoopPayload::MAX_STEP_MS));
        // A resumed job continues where it stopped.
        let start = if job.progress().phase == "steps" { job.progress().done.min(steps) } else { 0 };
        context.progress.enter_at("steps", start, Some(steps));
        for _ in start..steps {
            if context.pause.is_cancelled() {
                return Ok(JobOutcome::Paused);
            }
            tokio::select! {
                () = context.cancel.cancelled() => return Err(JobError::Cancelled),
                () = tokio::time::sleep(step) => {}
            }
            context.progress.advance(1);
        }
        Ok(JobOutcome::Completed(
            serde_json::json!({ "steps": steps, "worker": context.worker, "attempt": job.attempts() }),
        ))
    }
}
