//! Resolving a run into everything its phases need.

use std::collections::BTreeMap;

use qbench_domain::study::SearchQuantizationChoice;
use qbench_domain::{
    Connection, Dataset, Experiment, IndexSource, MemoryEstimate, Quantization, Run, RunId, SchemaConfig, SearchConfig,
    SearchQuantization, Snapshot, SnapshotArchive, VectorFootprint, VectorName, VectorSpec, source_violations,
};
use qbench_storage::DatasetSource;
use qbench_vector_store::{CollectionSpec, SearchParams};

use crate::execution::error::InPhase;
use crate::execution::{ExecutionDependencies, ExecutionError, Phase};

/// One search setting: every query of every searched vector is run with it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchSetting {
    /// Its name in results (`hnsw_ef=128`, `exact`, `default`).
    pub(crate) label: String,
    /// Parameters sent with each query.
    pub(crate) params: SearchParams,
    /// How it was chosen, when the run chose it (an `hnsw_ef` search), for the report.
    pub(crate) chosen_by: Option<String>,
    /// What is doubtful about it from the start (an `hnsw_ef` search that missed its target).
    pub(crate) flag: Option<String>,
}

/// A run, resolved.
#[derive(Debug, Clone)]
pub(crate) struct RunPlan {
    /// Its experiment.
    pub(crate) experiment: Experiment,
    /// The Qdrant it targets.
    pub(crate) connection: Connection,
    /// Where the dataset is.
    pub(crate) source: DatasetSource,
    /// What to read: the experiment's vectors (in the dataset's columns) and the payload fields.
    pub(crate) read_schema: SchemaConfig,
    /// The vectors the dataset declares (a plain `neighbors.parquet` belongs to a dataset's one
    /// vector only).
    pub(crate) declared_vectors: BTreeMap<VectorName, VectorSpec>,
    /// The collection to create.
    pub(crate) collection: CollectionSpec,
    /// The vectors queried.
    pub(crate) search_vectors: Vec<VectorName>,
    /// The search settings, in order.
    pub(crate) settings: Vec<SearchSetting>,
    /// The snapshot restored instead of building the index, when the experiment names one.
    pub(crate) restore: Option<RestorePlan>,
}

/// A snapshot to restore as the run's collection.
#[derive(Debug, Clone)]
pub(crate) struct RestorePlan {
    /// The snapshot.
    pub(crate) snapshot: Snapshot,
    /// Its archive.
    pub(crate) archive: SnapshotArchive,
    /// The run that built the collection it holds.
    pub(crate) built_by: RunId,
}

impl RunPlan {
    /// The distance of a vector of the plan.
    pub(crate) fn vector(&self, name: &VectorName) -> Option<&VectorSpec> {
        self.read_schema.vectors.get(name)
    }

    /// Whether the engine's scores are exact distances (no quantization, or re-scored), so the
    /// tie rule of the quality metrics can use them.
    pub(crate) fn scores_are_exact(&self, setting: &SearchSetting) -> bool {
        setting.params.exact
            || self.collection.quantization.is_none()
            || setting.params.quantization.as_ref().and_then(|q| q.rescore).unwrap_or(false)
    }
}

/// The collection of a run: `qbench-<run id>`, so qbench only ever touches collections it created.
pub(crate) fn collection_name(run_id: RunId) -> String {
    qbench_domain::run_collection(run_id)
}

/// The experiment as `run` executes it: with the settings it kept when it was triggered (an
/// older run, stored without them, runs the experiment as it is now).
pub(crate) async fn experiment_of(
    dependencies: &ExecutionDependencies,
    run: &Run,
) -> Result<Experiment, ExecutionError> {
    match run.settings() {
        Some(spec) => Ok(Experiment {
            id: run.experiment_id(),
            spec: spec.clone(),
            owner: run.owner().to_owned(),
            created_at: run.created_at(),
            updated_at: run.created_at(),
        }),
        None => dependencies.experiments.get(run.experiment_id()).await.in_phase(Phase::Prepare),
    }
}

/// Resolves the run's experiment, its dataset and connection, credentials and settings.
pub(crate) async fn resolve(dependencies: &ExecutionDependencies, run: &Run) -> Result<RunPlan, ExecutionError> {
    let phase = Phase::Prepare;
    let run_id = run.id();
    let mut experiment = experiment_of(dependencies, run).await?;
    let restore = match experiment.spec.source {
        Some(source) => Some(restore_plan(dependencies, &mut experiment, source).await?),
        None => None,
    };
    let dataset = dependencies.datasets.get(experiment.spec.dataset_id).await.in_phase(phase)?;
    let connection = dependencies.connections.get(experiment.spec.connection_id).await.in_phase(phase)?;
    let source = crate::sources::dataset_source(
        dependencies.storages.as_ref(),
        dependencies.defaults.default_s3.as_ref(),
        dependencies.defaults.local_access,
        &dataset,
    )
    .await
    .in_phase(phase)?;
    let read_schema = read_schema(&experiment, &dataset);
    let collection = collection_spec(collection_name(run_id), &experiment, &read_schema);
    let search_vectors = match &experiment.spec.search_config.vectors {
        Some(names) => names.clone(),
        None => read_schema.vectors.keys().cloned().collect(),
    };
    let settings = search_settings(&experiment);
    let declared_vectors = dataset.spec.schema_config.vectors.clone();
    Ok(RunPlan {
        connection,
        source,
        read_schema,
        declared_vectors,
        collection,
        search_vectors,
        settings,
        experiment,
        restore,
    })
}

/// The snapshot `source` names, checked again as the run starts (it may have been deleted or
/// failed since the experiment was registered); the experiment then takes the index settings of
/// the run that built it, so the plan, its search settings and the report describe the index
/// actually searched.
async fn restore_plan(
    dependencies: &ExecutionDependencies,
    experiment: &mut Experiment,
    source: IndexSource,
) -> Result<RestorePlan, ExecutionError> {
    let phase = Phase::Prepare;
    let sources = dependencies
        .sources
        .as_ref()
        .ok_or_else(|| ExecutionError::failed(phase, "this process cannot restore snapshots"))?;
    let snapshot = sources.snapshots.get(source.snapshot_id).await.in_phase(phase)?;
    let building = match snapshot.built_by {
        Some(run_id) => sources.runs.get(run_id).await.in_phase(phase)?.settings().cloned(),
        None => None,
    };
    let violations = source_violations(&experiment.spec, &snapshot, building.as_ref());
    let (Some(building), Some(archive), Some(built_by), true) =
        (building, snapshot.archive.clone(), snapshot.built_by, violations.is_empty())
    else {
        let reasons: Vec<String> = violations.iter().map(|v| format!("{}: {}", v.field, v.message)).collect();
        return Err(ExecutionError::failed(
            phase,
            format!("the index cannot come from the snapshot: {}", reasons.join("; ")),
        ));
    };
    experiment.spec.optimizer_config = building.optimizer_config;
    Ok(RestorePlan { snapshot, archive, built_by })
}

/// The collection an experiment creates with these vectors.
fn collection_spec(name: String, experiment: &Experiment, read_schema: &SchemaConfig) -> CollectionSpec {
    CollectionSpec::new(name, read_schema.vectors.clone(), &experiment.spec.optimizer_config)
}

/// The memory the collection of `experiment` on `dataset` needs for `train_rows` points and the
/// queries a run takes (`test_rows`, else `default_queries`, at most `queries_limit`): what a run
/// will estimate, known before it is queued when the dataset was inspected.
pub(crate) fn memory_estimate(
    experiment: &Experiment,
    dataset: &Dataset,
    train_rows: u64,
    test_rows: u64,
    default_queries: u64,
) -> MemoryEstimate {
    let collection = collection_spec(String::new(), experiment, &read_schema(experiment, dataset));
    collection_memory(&collection, experiment, train_rows, test_rows, default_queries)
}

fn collection_memory(
    collection: &CollectionSpec,
    experiment: &Experiment,
    train_rows: u64,
    test_rows: u64,
    default_queries: u64,
) -> MemoryEstimate {
    let search = &experiment.spec.search_config;
    let queries = if test_rows > 0 { test_rows } else { default_queries };
    let queries = search.queries_limit.map_or(queries, |limit| queries.min(u64::from(limit)));
    let vectors: Vec<VectorFootprint> = collection
        .vectors
        .iter()
        .map(|(name, spec)| VectorFootprint { dim: spec.dim.get(), m: collection.hnsw(name).m })
        .collect();
    MemoryEstimate::for_collection(train_rows, &vectors, collection.quantization.as_ref(), queries, search.k)
}

/// The experiment's vectors, read from the columns the dataset declares for them.
fn read_schema(experiment: &Experiment, dataset: &Dataset) -> SchemaConfig {
    let declared = &dataset.spec.schema_config;
    let vectors: BTreeMap<VectorName, VectorSpec> = match &experiment.spec.vector_config {
        None => declared.vectors.clone(),
        Some(chosen) => chosen
            .iter()
            .map(|(name, spec)| {
                let column = declared.vectors.get(name).and_then(|declared| declared.column.clone());
                (name.clone(), VectorSpec { column: spec.column.clone().or(column), ..spec.clone() })
            })
            .collect(),
    };
    SchemaConfig { scalar_fields: declared.scalar_fields.clone(), vectors }
}

/// The search settings: `exact`, or one per `hnsw_ef` (Qdrant's default when none is given) and
/// set of quantization parameters, then exact search when `with_exact` asks for it.
fn search_settings(experiment: &Experiment) -> Vec<SearchSetting> {
    let search = &experiment.spec.search_config;
    let quantized = experiment.spec.optimizer_config.quantization.is_some();
    let quantization = search.quantization.clone().filter(|_| quantized);
    let setting = |label: String, hnsw_ef: Option<u32>, exact: bool, quantization: Option<SearchQuantization>| {
        SearchSetting { label, params: SearchParams { hnsw_ef, exact, quantization }, chosen_by: None, flag: None }
    };
    if search.exact {
        return vec![setting("exact".to_owned(), None, true, quantization)];
    }
    let mut settings = Vec::new();
    if search.hnsw_ef_search.is_none() {
        // (With an `hnsw_ef` search, they are found by bisection on the built index: `search::find_ef`.)
        let efs: Vec<Option<u32>> =
            if search.hnsw_ef.is_empty() { vec![None] } else { search.hnsw_ef.iter().copied().map(Some).collect() };
        for ef in efs {
            for choice in quantization_choices(experiment) {
                let label = setting_label(ef, choice.as_ref(), search);
                settings.push(setting(label, ef, false, choice));
            }
        }
    }
    if search.with_exact {
        settings.push(exact_setting(experiment));
    }
    settings
}

/// The sets of quantization parameters each `hnsw_ef` is measured with: the configured one and
/// the sweep on a quantized collection, else none.
pub(crate) fn quantization_choices(experiment: &Experiment) -> Vec<Option<SearchQuantization>> {
    if experiment.spec.optimizer_config.quantization.is_none() {
        return vec![None];
    }
    experiment.spec.search_config.quantization_choices()
}

/// A setting's name in results: `hnsw_ef=128` (or `default`), followed by its quantization
/// parameters when several are measured.
pub(crate) fn setting_label(
    ef: Option<u32>,
    quantization: Option<&SearchQuantization>,
    search: &SearchConfig,
) -> String {
    let mut label = ef.map_or_else(|| "default".to_owned(), |ef| format!("hnsw_ef={ef}"));
    if !search.quantization_sweep.is_empty() {
        let choice = quantization.map(SearchQuantizationChoice::of).unwrap_or_default().label();
        label.push(' ');
        label.push_str(if choice.is_empty() { "quantization=default" } else { &choice });
    }
    label
}

/// Exact search measured next to the `hnsw_ef` settings: on a quantized collection it ignores the
/// quantized vectors, so it is the reference every approximate setting is compared with.
fn exact_setting(experiment: &Experiment) -> SearchSetting {
    let quantization = experiment.spec.optimizer_config.quantization.is_some().then_some(SearchQuantization {
        ignore: Some(true),
        rescore: None,
        oversampling: None,
    });
    SearchSetting {
        label: "exact".to_owned(),
        params: SearchParams { hnsw_ef: None, exact: true, quantization },
        chosen_by: None,
        flag: None,
    }
}

/// Whether a quantization is configured (for the provenance).
pub(crate) fn quantization_kind(quantization: Option<&Quantization>) -> &'static str {
    quantization.map_or("none", Quantization::kind)
}

impl RunPlan {
    /// The memory the collection of this plan needs, as [`memory_estimate`] says.
    pub(crate) fn memory_estimate(&self, train_rows: u64, test_rows: u64, default_queries: u64) -> MemoryEstimate {
        collection_memory(&self.collection, &self.experiment, train_rows, test_rows, default_queries)
    }
}
