//! What every service that submits jobs of its own kind (studies, reports, probes) does the same
//! way: store the job and wake the workers, and find one of its jobs for a caller.

use qbench_domain::{Caller, Job, JobId, JobKind};
use qbench_repository::{Entity, JobQueue, JobRepository};

use crate::ServiceError;
use crate::access::ensure_seen;

/// Stores `job` and announces it to the workers. The stored job is the source of truth: when the
/// announcement fails it still waits in the table for the next worker to look.
pub(crate) async fn submit(jobs: &dyn JobRepository, queue: &dyn JobQueue, job: &Job) -> Result<(), ServiceError> {
    jobs.insert(job).await?;
    if let Err(error) = queue.enqueue(job.id()).await {
        tracing::warn!(job_id = %job.id(), kind = %job.kind(), %error, "job stored but not announced to the queue");
    }
    Ok(())
}

/// The job `id` of `kind` that `caller` sees; any other answers the `NotFound` of a missing id.
pub(crate) async fn seen_of_kind(
    jobs: &dyn JobRepository,
    caller: &Caller,
    id: JobId,
    kind: JobKind,
) -> Result<Job, ServiceError> {
    let job = jobs.get(id).await?;
    ensure_seen(caller, job.owner(), Entity::Job, id)?;
    if job.kind() != kind {
        return Err(ServiceError::NotFound { entity: Entity::Job, id: id.to_string() });
    }
    Ok(job)
}
