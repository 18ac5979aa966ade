//! The in-process run queue: the runs table is the queue, this only wakes the workers.

use std::sync::Arc;

use async_trait::async_trait;
use qbench_domain::RunId;
use qbench_repository::{QueueError, RunQueue};
use tokio::sync::Notify;

/// Wakes whatever waits for new runs; the `CREATED` rows themselves are the queue, so a wake-up
/// that nobody receives loses nothing.
#[derive(Debug, Default, Clone)]
pub struct NotifyRunQueue {
    notify: Arc<Notify>,
}

impl NotifyRunQueue {
    /// The notifier workers wait on.
    pub fn notifier(&self) -> Arc<Notify> {
        self.notify.clone()
    }

    /// Resolves when a run has been queued since the last wake-up.
    pub async fn wait(&self) {
        self.notify.notified().await;
    }
}

#[async_trait]
impl RunQueue for NotifyRunQueue {
    async fn enqueue(&self, run_id: RunId) -> Result<(), QueueError> {
        tracing::debug!(%run_id, "run queued");
        self.notify.notify_one();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_queued_run_wakes_a_waiting_worker_even_if_it_starts_waiting_later() {
        let queue = NotifyRunQueue::default();
        queue.enqueue(RunId::new()).await.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(1), queue.wait()).await.unwrap();
    }
}
