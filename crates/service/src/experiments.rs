//! Registering experiments, validated against their dataset.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{Experiment, ExperimentId, ExperimentSpec, ExperimentValidator, ValidationReport, Violation};
use qbench_repository::{ConnectionRepository, DatasetRepository, ExperimentRepository, Listed, Page, RepositoryError};

use crate::ServiceError;

/// Use cases on experiments.
#[derive(Clone)]
pub struct ExperimentService {
    experiments: Arc<dyn ExperimentRepository>,
    datasets: Arc<dyn DatasetRepository>,
    connections: Arc<dyn ConnectionRepository>,
}

impl ExperimentService {
    /// A service over `experiments`, checking references into `datasets` and `connections`.
    pub fn new(
        experiments: Arc<dyn ExperimentRepository>,
        datasets: Arc<dyn DatasetRepository>,
        connections: Arc<dyn ConnectionRepository>,
    ) -> Self {
        Self { experiments, datasets, connections }
    }

    /// Every error and warning of `spec`: unknown dataset or connection, and everything
    /// [`ExperimentValidator`] finds against the dataset. This is the dry run.
    #[tracing::instrument(skip_all, fields(dataset_id = %spec.dataset_id))]
    pub async fn validate(&self, spec: &ExperimentSpec) -> Result<ValidationReport, ServiceError> {
        let connection_missing = match self.connections.get(spec.connection_id).await {
            Ok(_) => None,
            Err(RepositoryError::NotFound { .. }) => {
                Some(Violation::new("connection_id", format!("connection {} does not exist", spec.connection_id)))
            }
            Err(other) => return Err(other.into()),
        };
        let mut report = match self.datasets.get(spec.dataset_id).await {
            Ok(dataset) => ExperimentValidator::new(&dataset.spec.schema_config).validate(spec),
            Err(RepositoryError::NotFound { .. }) => ValidationReport {
                errors: vec![Violation::new("dataset_id", format!("dataset {} does not exist", spec.dataset_id))],
                warnings: Vec::new(),
            },
            Err(other) => return Err(other.into()),
        };
        report.errors.extend(connection_missing);
        Ok(report)
    }

    async fn validated(&self, spec: &ExperimentSpec) -> Result<Vec<Violation>, ServiceError> {
        let report = self.validate(spec).await?;
        if report.is_valid() { Ok(report.warnings) } else { Err(ServiceError::Invalid(report.errors)) }
    }

    /// Registers a valid experiment; returns it with the validation warnings.
    #[tracing::instrument(skip_all, fields(name = %spec.name))]
    pub async fn create(&self, spec: ExperimentSpec) -> Result<(Experiment, Vec<Violation>), ServiceError> {
        let warnings = self.validated(&spec).await?;
        let experiment = Experiment::new(spec, now());
        self.experiments.insert(&experiment).await?;
        Ok((experiment, warnings))
    }

    /// The experiment with `id`.
    pub async fn get(&self, id: ExperimentId) -> Result<Experiment, ServiceError> {
        Ok(self.experiments.get(id).await?)
    }

    /// A page of experiments.
    pub async fn list(&self, page: Page) -> Result<Listed<Experiment>, ServiceError> {
        Ok(self.experiments.list(page).await?)
    }

    /// Replaces an experiment's settings, validated like a new one.
    #[tracing::instrument(skip(self, spec))]
    pub async fn update(&self, id: ExperimentId, spec: ExperimentSpec) -> Result<Experiment, ServiceError> {
        let mut experiment = self.experiments.get(id).await?;
        self.validated(&spec).await?;
        experiment.spec = spec;
        experiment.updated_at = now();
        self.experiments.update(&experiment).await?;
        Ok(experiment)
    }

    /// Deletes an experiment; with runs only when `cascade` (its runs go with it).
    #[tracing::instrument(skip(self))]
    pub async fn delete(&self, id: ExperimentId, cascade: bool) -> Result<(), ServiceError> {
        Ok(self.experiments.delete(id, cascade).await?)
    }
}
