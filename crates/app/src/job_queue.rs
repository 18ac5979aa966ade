//! Waking workers when a job is queued: the `jobs` table is the queue, this only wakes.

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::JobId;
use qbench_repository::{JobQueue, QueueError};
use qbench_sql::SqlDatabase;
use tokio::sync::Notify;

/// Wakes this process's worker at once and, on PostgreSQL, every other process's through
/// `NOTIFY`; the `CREATED` rows themselves are the queue, so a wake-up that nobody receives loses
/// nothing.
#[derive(Debug, Default, Clone)]
pub struct NotifyJobQueue {
    notify: Arc<Notify>,
    database: Option<Arc<SqlDatabase>>,
}

impl NotifyJobQueue {
    /// A queue that also announces jobs through `database` (a no-op unless it is PostgreSQL).
    pub fn announcing_through(database: Arc<SqlDatabase>) -> Self {
        Self { notify: Arc::default(), database: Some(database) }
    }

    /// The notifier workers wait on.
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// Resolves when a job has been queued since the last wake-up.
    pub async fn wait(&self) {
        self.notify.notified().await;
    }
}

#[async_trait]
impl JobQueue for NotifyJobQueue {
    async fn enqueue(&self, job: JobId) -> Result<(), QueueError> {
        tracing::debug!(%job, "job queued");
        self.notify.notify_one();
        if let Some(database) = &self.database {
            database.announce_job(job).await.map_err(|error| QueueError(error.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_queued_job_wakes_a_waiting_worker_even_if_it_starts_waiting_later() {
        let queue = NotifyJobQueue::default();
        queue.enqueue(JobId::new()).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(1), queue.wait()).await.unwrap();
    }
}
