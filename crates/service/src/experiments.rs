//! Registering experiments, validated against their dataset.

use std::sync::Arc;

use crate::clock::now;
use qbench_domain::{
    Caller, Experiment, ExperimentId, ExperimentSpec, ExperimentValidator, IndexSource, Role, ValidationReport,
    Violation, source_violations,
};
use qbench_repository::{
    ConnectionRepository, DatasetRepository, Entity, ExperimentRepository, Listed, Page, RepositoryError,
    RunRepository, SnapshotRepository,
};

use crate::ServiceError;
use crate::access::{ensure_seen, listed_owner};
use crate::error::reference_gone;

/// The objects an experiment references, by the field naming each.
const REFERENCES: &[(Entity, &str)] = &[(Entity::Dataset, "dataset_id"), (Entity::Connection, "connection_id")];

/// Use cases on experiments.
///
/// An experiment belongs to the user who registered it, with the same rules as datasets: viewers
/// read their own, editors also register, change and delete their own, admins do all of it to
/// anyone's; another user's experiment answers the same `NotFound` as a missing one. An
/// experiment may only use a dataset its caller sees.
#[derive(Clone)]
pub struct ExperimentService {
    experiments: Arc<dyn ExperimentRepository>,
    datasets: Arc<dyn DatasetRepository>,
    connections: Arc<dyn ConnectionRepository>,
    sources: Option<(Arc<dyn SnapshotRepository>, Arc<dyn RunRepository>)>,
}

impl ExperimentService {
    /// A service over `experiments`, checking references into `datasets` and `connections`.
    pub fn new(
        experiments: Arc<dyn ExperimentRepository>,
        datasets: Arc<dyn DatasetRepository>,
        connections: Arc<dyn ConnectionRepository>,
    ) -> Self {
        Self { experiments, datasets, connections, sources: None }
    }

    /// The service checking an experiment's `source` snapshot in `snapshots`, against the run in
    /// `runs` that built it. Without them, an experiment naming a snapshot is refused.
    pub fn with_sources(mut self, snapshots: Arc<dyn SnapshotRepository>, runs: Arc<dyn RunRepository>) -> Self {
        self.sources = Some((snapshots, runs));
        self
    }

    /// Why `source` cannot be `spec`'s index: [`source_violations`] of the snapshot and of the
    /// settings of the run that built it. A snapshot the caller does not see reads as missing.
    async fn source_errors(
        &self,
        caller: &Caller,
        spec: &ExperimentSpec,
        source: IndexSource,
    ) -> Result<Vec<Violation>, ServiceError> {
        let missing =
            || vec![Violation::new("source.snapshot_id", format!("snapshot {} does not exist", source.snapshot_id))];
        let Some((snapshots, runs)) = &self.sources else { return Ok(missing()) };
        let snapshot = match snapshots.get(source.snapshot_id).await {
            Ok(snapshot) if caller.sees(&snapshot.owner) => snapshot,
            Ok(_) | Err(RepositoryError::NotFound { .. }) => return Ok(missing()),
            Err(other) => return Err(other.into()),
        };
        let building = match snapshot.built_by {
            Some(run_id) => match runs.get(run_id).await {
                Ok(run) => run.settings().cloned(),
                Err(RepositoryError::NotFound { .. }) => None,
                Err(other) => return Err(other.into()),
            },
            None => None,
        };
        let mut violations = source_violations(spec, &snapshot, building.as_ref());
        if let (Ok(origin), Ok(target)) =
            (self.connections.get(snapshot.spec.connection_id).await, self.connections.get(spec.connection_id).await)
            && origin.is_embedded() != target.is_embedded()
        {
            violations
                .push(Violation::new("connection_id", crate::snapshots::service::same_engine_kind(&snapshot, &origin)));
        }
        Ok(violations)
    }

    /// Every error and warning of `spec`: unknown dataset or connection, and everything
    /// [`ExperimentValidator`] finds against the dataset. This is the dry run (viewer); a dataset
    /// the caller does not see is reported exactly like a missing one.
    #[tracing::instrument(skip_all, fields(user = caller.user(), dataset_id = %spec.dataset_id))]
    pub async fn validate(&self, caller: &Caller, spec: &ExperimentSpec) -> Result<ValidationReport, ServiceError> {
        caller.require(Role::Viewer)?;
        self.report(caller, spec).await
    }

    async fn report(&self, caller: &Caller, spec: &ExperimentSpec) -> Result<ValidationReport, ServiceError> {
        let connection_missing = match self.connections.get(spec.connection_id).await {
            Ok(_) => None,
            Err(RepositoryError::NotFound { .. }) => {
                Some(Violation::new("connection_id", format!("connection {} does not exist", spec.connection_id)))
            }
            Err(other) => return Err(other.into()),
        };
        let mut report = match self.datasets.get(spec.dataset_id).await {
            Ok(dataset) if caller.sees(&dataset.owner) => {
                ExperimentValidator::new(&dataset.spec.schema_config).validate(spec)
            }
            Ok(_) | Err(RepositoryError::NotFound { .. }) => ValidationReport {
                errors: vec![Violation::new("dataset_id", format!("dataset {} does not exist", spec.dataset_id))],
                warnings: Vec::new(),
            },
            Err(other) => return Err(other.into()),
        };
        report.errors.extend(connection_missing);
        if let Some(source) = spec.source {
            report.errors.extend(self.source_errors(caller, spec, source).await?);
        }
        Ok(report)
    }

    async fn validated(&self, caller: &Caller, spec: &ExperimentSpec) -> Result<Vec<Violation>, ServiceError> {
        let report = self.report(caller, spec).await?;
        if report.is_valid() { Ok(report.warnings) } else { Err(ServiceError::Invalid(report.errors)) }
    }

    /// The experiment with `id`, if `caller` sees it; `NotFound` otherwise.
    async fn seen(&self, caller: &Caller, id: ExperimentId) -> Result<Experiment, ServiceError> {
        let experiment = self.experiments.get(id).await?;
        ensure_seen(caller, &experiment.owner, Entity::Experiment, id)?;
        Ok(experiment)
    }

    /// Registers a valid experiment of the caller (editor); returns it with the validation
    /// warnings.
    #[tracing::instrument(skip_all, fields(user = caller.user(), name = %spec.name))]
    pub async fn create(
        &self,
        caller: &Caller,
        spec: ExperimentSpec,
    ) -> Result<(Experiment, Vec<Violation>), ServiceError> {
        caller.require(Role::Editor)?;
        let warnings = self.validated(caller, &spec).await?;
        let experiment = Experiment::new(spec, caller.user(), now());
        self.experiments.insert(&experiment).await.map_err(|error| reference_gone(error, REFERENCES))?;
        Ok((experiment, warnings))
    }

    /// The experiment with `id` (viewer, an experiment the caller sees).
    pub async fn get(&self, caller: &Caller, id: ExperimentId) -> Result<Experiment, ServiceError> {
        caller.require(Role::Viewer)?;
        self.seen(caller, id).await
    }

    /// The experiment with `id`, read to be changed (a merge patch starts from it): needs what
    /// [`Self::update`] needs (editor, an experiment the caller sees), so a caller without the
    /// role is refused before any lookup.
    pub async fn get_for_update(&self, caller: &Caller, id: ExperimentId) -> Result<Experiment, ServiceError> {
        caller.require(Role::Editor)?;
        self.seen(caller, id).await
    }

    /// A page of the experiments the caller sees (viewer): their own, everyone's for an admin.
    pub async fn list(&self, caller: &Caller, page: Page) -> Result<Listed<Experiment>, ServiceError> {
        caller.require(Role::Viewer)?;
        Ok(self.experiments.list(listed_owner(caller), page).await?)
    }

    /// Replaces an experiment's settings, validated like a new one (editor, an experiment the
    /// caller sees); it keeps its owner.
    #[tracing::instrument(skip(self, caller, spec), fields(user = caller.user()))]
    pub async fn update(
        &self,
        caller: &Caller,
        id: ExperimentId,
        spec: ExperimentSpec,
    ) -> Result<Experiment, ServiceError> {
        caller.require(Role::Editor)?;
        let mut experiment = self.seen(caller, id).await?;
        self.validated(caller, &spec).await?;
        experiment.spec = spec;
        experiment.updated_at = now();
        self.experiments.update(&experiment).await.map_err(|error| reference_gone(error, REFERENCES))?;
        Ok(experiment)
    }

    /// Deletes an experiment (editor, an experiment the caller sees); with runs only when
    /// `cascade` (its runs go with it).
    #[tracing::instrument(skip(self, caller), fields(user = caller.user()))]
    pub async fn delete(&self, caller: &Caller, id: ExperimentId, cascade: bool) -> Result<(), ServiceError> {
        caller.require(Role::Editor)?;
        self.seen(caller, id).await?;
        Ok(self.experiments.delete(id, cascade).await?)
    }
}
