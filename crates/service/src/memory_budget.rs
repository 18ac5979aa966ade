//! Refusing a run before it is queued when its collection cannot fit the embedded engine's memory.

use std::sync::Arc;

use qbench_domain::{Bytes, Experiment, Violation};
use qbench_repository::{ConnectionRepository, DatasetRepository};

use crate::ServiceError;
use crate::execution::plan;

/// The memory budget of embedded builds, checked when a run is triggered on a dataset whose rows
/// are known from its last inspection (the run checks again, with the files as they are then).
#[derive(Clone)]
pub struct MemoryBudget {
    /// Datasets, for their last inspection.
    pub datasets: Arc<dyn DatasetRepository>,
    /// Connections, to tell the embedded engine from a remote Qdrant.
    pub connections: Arc<dyn ConnectionRepository>,
    /// Bytes an embedded collection build may need.
    pub bytes: u64,
    /// Queries assumed for a dataset without a test file.
    pub default_queries: u64,
}

impl MemoryBudget {
    /// `Invalid` naming `dataset_id` when `experiment` builds an embedded collection estimated
    /// over the budget; nothing when the dataset was never inspected or the Qdrant is remote.
    pub(crate) async fn check(&self, experiment: &Experiment) -> Result<(), ServiceError> {
        let connection = self.connections.get(experiment.spec.connection_id).await?;
        if !connection.is_embedded() {
            return Ok(());
        }
        let dataset = self.datasets.get(experiment.spec.dataset_id).await?;
        let Some(inspection) = &dataset.inspection else { return Ok(()) };
        let estimate = plan::memory_estimate(
            experiment,
            &dataset,
            inspection.train_rows,
            inspection.test_rows,
            self.default_queries,
        );
        if estimate.total() <= self.bytes {
            return Ok(());
        }
        Err(ServiceError::Invalid(vec![Violation::new(
            "dataset_id",
            format!(
                "{} points (as last inspected) need an estimated {estimate}, over the memory budget of {} \
                 (engine.memory_budget_bytes); lower m, use quantization or a smaller dataset",
                inspection.train_rows,
                Bytes(self.bytes)
            ),
        )]))
    }
}
