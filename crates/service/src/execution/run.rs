//! One execution, phase by phase.

use std::sync::Arc;
use std::time::{Duration, Instant};

use qbench_domain::report::{MemoryEstimateReport, ResultFiles, RunReport};
use qbench_domain::{Bytes, MemoryEstimate, Run};
use qbench_report::{ReportRun, render_runs};
use qbench_storage::Artifact;
use qbench_vector_store::VectorStore;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::plan::{self, RunPlan};
use crate::execution::queries::cancelled;
use crate::execution::report::{self, Measurements};
use crate::execution::restore::restore_index;
use crate::execution::{
    ExecutionDependencies, ExecutionError, Phase, ProgressSink, ground_truth, queries, run_log, search, upload,
};

/// A completed execution.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run's report, as its stored `metrics` ([`RunReport`] as JSON).
    pub metrics: serde_json::Value,
}

fn as_json(report: &RunReport) -> Result<serde_json::Value, ExecutionError> {
    serde_json::to_value(report)
        .map_err(|error| ExecutionError::failed(Phase::Cleanup, format!("the report cannot be written: {error}")))
}

/// Executes `run`: every phase in order, reporting to `progress`, stopping at the next batch or
/// query once `cancel` fires. The collection is dropped afterwards, unless the experiment keeps it
/// and every phase succeeded. However it ends, the run's own log is stored beside its results
/// (`log.jsonl`); a log that cannot be stored is only warned about.
pub async fn execute(
    dependencies: &ExecutionDependencies,
    run: &Run,
    worker: &str,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<RunOutcome, ExecutionError> {
    let outcome = execute_phases(dependencies, run, worker, progress, cancel).await;
    let run_id = run.id().to_string();
    let lines = run_log::lines(&run_id, &progress.history(), &outcome);
    if let Err(error) = dependencies.results.write_log(&run_id, &lines).await {
        tracing::warn!(run_id = %run_id, %error, "the run's log was not stored");
    }
    outcome
}

async fn execute_phases(
    dependencies: &ExecutionDependencies,
    run: &Run,
    worker: &str,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<RunOutcome, ExecutionError> {
    let started = Instant::now();
    progress.enter(Phase::Prepare, None);
    let plan = plan::resolve(dependencies, run).await?;
    // The engine first: a run against a Qdrant it cannot reach fails before any data is read.
    let store = dependencies.stores.open(&plan.connection, run.id()).await.in_phase(Phase::Prepare)?;
    let engine = store.engine().await.in_phase(Phase::Prepare)?;
    let inspection = dependencies.reader.inspect(&plan.source, &plan.read_schema).await.in_phase(Phase::Prepare)?;
    let memory = check_memory(dependencies, &plan, &inspection)?;
    let queries = Arc::new(queries::load(dependencies, &plan, &inspection, cancel).await?);
    let k = plan.experiment.spec.search_config.k as usize;
    progress.enter(Phase::Prepare, Some(inspection.train_rows));
    let truth = ground_truth::load(dependencies, &plan, &inspection, &queries, k, progress, cancel).await?;
    cancelled(cancel)?;

    let mut points = inspection.train_rows.saturating_sub(queries.held_out.len() as u64);
    let index_source = match &plan.restore {
        Some(restore) => Some(restore_index(dependencies, &plan, restore, &store, points, progress, cancel).await?),
        None => {
            progress.enter(Phase::CreateCollection, None);
            store.create_collection(&plan.collection).await.in_phase(Phase::CreateCollection)?;
            None
        }
    };
    if let Some(sample) = plan.experiment.spec.upload_config.sample {
        // What the sample is expected to keep: progress only.
        points = sample.expected(points);
    }
    let restored = index_source.as_ref().map(|source| source.points);
    let measured = measure(dependencies, &plan, &store, &queries, &truth, points, restored, progress, cancel).await;
    progress.enter(Phase::Cleanup, None);
    // A completed run's collection is kept when asked; a partial one is never worth keeping.
    if !(measured.is_ok() && plan.experiment.spec.keep_collection)
        && let Err(error) = store.drop_collection(&plan.collection.name).await
    {
        tracing::warn!(run_id = %run.id(), collection = %plan.collection.name, %error, "collection not dropped");
    }
    let (upload, index_seconds, results, collection) = measured?;

    let measurements = Measurements {
        plan: &plan,
        inspection: &inspection,
        queries: &queries,
        truth: &truth,
        engine: &engine,
        collection: &collection,
        upload,
        index_seconds,
        results: &results,
        total_seconds: started.elapsed().as_secs_f64(),
        qbench_version: &dependencies.defaults.qbench_version,
        worker,
    };
    let mut report = report::report(&measurements);
    report.memory_estimate = Some(MemoryEstimateReport { total_bytes: memory.total(), parts: memory });
    report.index_source = index_source;
    let records = report::query_records(&results, &queries, &truth);
    let document = as_json(&report)?;
    let stored =
        dependencies.results.write_result(&run.id().to_string(), &document, &records).await.in_phase(Phase::Cleanup)?;
    report.result_files = Some(ResultFiles {
        result_json: stored.result_json,
        queries_parquet: stored.queries_parquet,
        report_html: store_page(dependencies, run, &plan, &report).await,
    });
    Ok(RunOutcome { metrics: as_json(&report)? })
}

/// Renders the run's report page and stores it beside its results as `report.html`; answers its
/// location. A page that cannot be drawn or stored is only warned about: the figures are stored.
async fn store_page(
    dependencies: &ExecutionDependencies,
    run: &Run,
    plan: &RunPlan,
    report: &RunReport,
) -> Option<String> {
    let name = &plan.experiment.spec.name;
    let page = ReportRun {
        id: run.id().to_string(),
        label: name.clone(),
        created_at: Some(run.created_at()),
        settings: Some(plan.experiment.spec.clone()),
        report: report.clone(),
    };
    let stored = match render_runs(&format!("Run of {name}"), &[page], chrono::Utc::now()) {
        Ok(html) => {
            dependencies.results.write_artifact(&run.id().to_string(), Artifact::Report, html.into_bytes()).await
        }
        Err(error) => {
            tracing::warn!(run_id = %run.id(), error = %error, "the run's report page was not drawn");
            return None;
        }
    };
    stored.inspect_err(|error| tracing::warn!(run_id = %run.id(), %error, "the run's report page was not stored")).ok()
}

/// Estimates the memory the collection needs and, for the embedded engine, refuses a run over the
/// budget before any of it is spent: the engine lives in this process (or its run's child), and
/// an allocation it cannot get aborts it.
fn check_memory(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    inspection: &qbench_storage::DatasetInspection,
) -> Result<MemoryEstimate, ExecutionError> {
    let mut rows = inspection.train_rows;
    if let Some(sample) = plan.experiment.spec.upload_config.sample {
        rows = sample.expected(rows);
    }
    let estimate = plan.memory_estimate(rows, inspection.test_rows, dependencies.defaults.queries as u64);
    if let Some(budget) = dependencies.defaults.memory_budget
        && plan.connection.is_embedded()
        && estimate.total() > budget
    {
        return Err(ExecutionError::failed(
            Phase::Prepare,
            format!(
                "{rows} points need an estimated {estimate}, over the memory budget of {} (engine.memory_budget_bytes); \
                 lower m, use quantization or a smaller dataset, or raise the budget",
                Bytes(budget)
            ),
        ));
    }
    Ok(estimate)
}

type Measured = (upload::UploadStats, f64, Vec<search::SettingResult>, qbench_vector_store::CollectionInfo);

/// Upload, index and search: the phases that need the collection.
#[allow(clippy::too_many_arguments)]
async fn measure(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    store: &Arc<dyn VectorStore>,
    queries: &Arc<queries::QuerySet>,
    truth: &ground_truth::GroundTruth,
    points: u64,
    restored: Option<u64>,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<Measured, ExecutionError> {
    let (upload, index_seconds) = match restored {
        // A restored index: nothing uploaded or indexed here.
        Some(points) => (upload::UploadStats { points, seconds: 0.0, batch_size: 0, parallel: 0 }, 0.0),
        None => {
            progress.enter(Phase::Upload, Some(points));
            let upload = upload::upload(dependencies, plan, store, queries, progress, cancel).await?;
            cancelled(cancel)?;
            progress.enter(Phase::Index, None);
            let indexing = Instant::now();
            store.build_index(&plan.collection.name).await.in_phase(Phase::Index)?;
            (upload, indexing.elapsed().as_secs_f64())
        }
    };
    let collection = store.collection_info(&plan.collection.name).await.in_phase(Phase::Index)?;
    cancelled(cancel)?;

    let search = &plan.experiment.spec.search_config;
    let measurement = search::Measurement {
        min_duration: Duration::from_secs_f64(search.min_seconds.unwrap_or(dependencies.defaults.search_seconds)),
        repetitions: search.repetitions.unwrap_or(dependencies.defaults.repetitions).max(1) as usize,
        parallel: search.parallel.max(1) as usize,
    };
    let searches = plan.search_vectors.len()
        * plan.settings.len()
        * search.client_counts().len()
        * measurement.repetitions
        * queries.len();
    // With an hnsw_ef search, how many candidates it probes is known only as it goes.
    progress.enter(Phase::Search, search.hnsw_ef_search.is_none().then_some(searches as u64));
    let warmup = dependencies.defaults.warmup_queries.min(queries.len() / 10 + 1);
    let results = search::search_all(plan, store, queries, truth, warmup, measurement, progress, cancel).await?;
    Ok((upload, index_seconds, results, collection))
}
