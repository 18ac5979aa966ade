//! `qbench bench`: one experiment, run in process against a throwaway database, with live progress.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use qbench_domain::{
    Caller, ExperimentSpec, IndexConfig, Quantization, Run, RunStatus, ScalarType, SearchQuantization, UploadConfig,
};
use qbench_service::execution::BenchmarkHandler;
use qbench_service::jobs::JobWorker;
use qbench_service::{ExperimentService, RunService};

use crate::cli::BenchArgs;
use crate::commands::scratch::{Scratch, Target};
use crate::commands::{CommandError, flags, table};
use crate::settings::Settings;
use crate::wiring::worker_settings;

/// Where `--json FILE` keeps the run's artifacts: `FILE`'s directory, `<FILE stem>-artifacts/`
/// (one folder per run inside, and the ground truth it computed, reused by the next bench there).
fn artifacts_dir(json: &std::path::Path) -> std::path::PathBuf {
    let stem = json.file_stem().map_or_else(|| "bench".into(), |stem| stem.to_string_lossy().into_owned());
    json.with_file_name(format!("{stem}-artifacts"))
}

/// Runs the experiment `args` describe and prints its results.
pub async fn run(args: BenchArgs, settings: &Settings) -> Result<(), CommandError> {
    let embedded = args.connection == qbench_domain::EMBEDDED_CONNECTION_URL;
    if args.keep_collection && embedded && args.json.is_none() {
        return Err(CommandError::new(
            "--keep-collection: the embedded engine's collection would be deleted with bench's scratch directory; \
             add --json FILE to keep it in <FILE stem>-artifacts/engine/",
        ));
    }
    let target = Target {
        dataset: &args.dataset,
        vectors: &args.vectors.0,
        scalar_fields: &args.scalar_fields,
        connection: &args.connection,
        api_key: args.api_key.as_deref(),
        results: args.json.as_deref().map(artifacts_dir),
        keep_engine: args.keep_collection && embedded,
    };
    // Held to the end: its directory holds the database and the results.
    let scratch = Scratch::open(target, settings).await?;
    let Scratch { repositories, engine, caller, connection, dataset, settings, .. } = &scratch;
    let experiments = ExperimentService::new(
        repositories.experiments.clone(),
        repositories.datasets.clone(),
        repositories.connections.clone(),
    );
    let (experiment, _warnings) = experiments
        .create(caller, experiment_spec(&args, dataset, connection.id))
        .await
        .map_err(|error| flags::in_flags(error, flags::BENCH))?;
    let runs = RunService::new(
        repositories.runs.clone(),
        repositories.experiments.clone(),
        repositories.queue.clone(),
        repositories.clock.clone(),
    );
    let run = runs.create(caller, experiment.id, None).await.map_err(|error| flags::in_flags(error, flags::BENCH))?;

    let benchmarks = BenchmarkHandler::new(repositories.runs.clone(), engine.execution(repositories, settings));
    let worker = Arc::new(
        JobWorker::new(repositories.jobs.clone(), worker_settings(settings), repositories.clock.clone())
            .with_handler(Arc::new(benchmarks)),
    );
    let execution = tokio::spawn(async move { worker.run_next().await });
    let ended = watch(&runs, caller, &run, execution).await?;
    match ended.status() {
        RunStatus::Completed => {
            let metrics = ended.metrics().cloned().unwrap_or_default();
            print!("{}", table::render(&metrics));
            if let Some(path) = &args.json {
                let text = serde_json::to_string_pretty(&metrics).map_err(CommandError::new)?;
                std::fs::write(path, text)
                    .map_err(|err| CommandError::new(format!("--json {}: {err}", path.display())))?;
                let artifacts = artifacts_dir(path);
                let folder = artifacts.join(ended.id().to_string());
                println!("artifacts (result.json, queries.parquet, log.jsonl): {}", folder.display());
                let page = folder.join("report.html");
                if page.exists() {
                    println!("report (one page, charts included): {}", page.display());
                }
                if args.keep_collection && embedded {
                    let collection = artifacts.join("engine").join(format!("qbench-{}", ended.id()));
                    println!("collection kept: {}", collection.display());
                }
            }
            Ok(())
        }
        status @ (RunStatus::Created | RunStatus::Running | RunStatus::Failed | RunStatus::Canceled) => {
            Err(CommandError::new(format!("run {status}: {}", ended.error().unwrap_or("cancelled"))))
        }
    }
}

fn experiment_spec(
    args: &BenchArgs,
    dataset: &qbench_domain::Dataset,
    connection_id: qbench_domain::ConnectionId,
) -> ExperimentSpec {
    let mut spec = ExperimentSpec::new("bench", dataset.id, connection_id);
    for name in args.vectors.0.keys() {
        spec.optimizer_config.indexing.insert(name.clone(), IndexConfig::hnsw(args.m, args.ef_construct));
    }
    if args.int8 {
        spec.optimizer_config.quantization =
            Some(Quantization::Scalar { scalar_type: ScalarType::Int8, quantile: None, always_ram: Some(true) });
        spec.search_config.quantization =
            Some(SearchQuantization { ignore: None, rescore: Some(args.rescore), oversampling: args.oversampling });
    }
    spec.search_config.k = args.k;
    spec.search_config.hnsw_ef = args.hnsw_ef.clone();
    spec.search_config.exact = args.exact;
    spec.search_config.parallel = args.parallel;
    spec.search_config.queries_limit = args.queries;
    spec.search_config.allow_ground_truth_mismatch = args.allow_ground_truth_mismatch;
    spec.search_config.min_seconds = args.min_seconds;
    spec.search_config.repetitions = args.repetitions;
    spec.search_config.primary_hnsw_ef = args.primary_hnsw_ef;
    spec.upload_config = UploadConfig { batch_size: args.batch_size, parallel: args.upload_parallel, sample: None };
    spec.keep_collection = args.keep_collection;
    spec
}

/// Shows a progress bar per phase until the run ends; Ctrl-C cancels it.
async fn watch(
    runs: &RunService,
    caller: &Caller,
    run: &Run,
    mut execution: tokio::task::JoinHandle<Result<Option<qbench_domain::Job>, qbench_repository::RepositoryError>>,
) -> Result<Run, CommandError> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>17} [{bar:40}] {pos}/{len} {per_sec} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let spinner = ProgressStyle::with_template("{prefix:>17} {spinner} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let mut current: Option<(String, ProgressBar)> = None;
    let mut ticker = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            finished = &mut execution => {
                if let Some((_, bar)) = current.take() {
                    bar.finish();
                }
                let ended = finished.map_err(|err| CommandError::new(format!("the run crashed: {err}")))?;
                ended.map_err(CommandError::new)?.ok_or_else(|| CommandError::new("the run was not found"))?;
                return runs.get(caller, run.id()).await.map_err(CommandError::new);
            }
            _ = tokio::signal::ctrl_c() => {
                runs.cancel(caller, run.id()).await.map_err(CommandError::new)?;
            }
            _ = ticker.tick() => {
                let Ok(latest) = runs.get(caller, run.id()).await else { continue };
                let progress = latest.progress();
                if current.as_ref().is_none_or(|(phase, _)| *phase != progress.phase) {
                    if let Some((_, bar)) = current.take() {
                        bar.finish();
                    }
                    let bar = bars.add(match progress.total {
                        Some(total) => ProgressBar::new(total).with_style(style.clone()),
                        None => ProgressBar::new_spinner().with_style(spinner.clone()),
                    });
                    bar.set_prefix(progress.phase.clone());
                    current = Some((progress.phase.clone(), bar));
                }
                if let Some((_, bar)) = &current {
                    bar.set_position(progress.done);
                    bar.tick();
                }
            }
        }
    }
}
