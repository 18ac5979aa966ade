//! `qbench tune`: a grid study run in process against a throwaway database, with a progress bar
//! for the trials and one for the current trial's phase; prints the Pareto front and the
//! recommendation with the Qdrant JSON to apply it.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use qbench_domain::study::{
    Constraints, EfValues, Objective, Optimise, QualityMetric, SearchSpace, Strategy, StudyReport, StudySpace,
    StudySpec, VectorBuildSpace,
};
use qbench_domain::{Job, JobKind, JobStatus};
use qbench_repository::{JobFilter, Page};
use qbench_service::execution::BenchmarkHandler;
use qbench_service::jobs::{JobService, JobWorker};
use qbench_service::studies::{StudyHandler, StudyService};

use qbench_report::{ReportStudy, render_study};

use crate::cli::TuneArgs;
use crate::commands::scratch::{Scratch, Target};
use crate::commands::{CommandError, flags};
use crate::dto::study::quantization_choice;
use crate::settings::Settings;
use crate::wiring::worker_settings;

/// Runs the study `args` describe and prints what it found.
pub async fn run(args: TuneArgs, settings: &Settings) -> Result<(), CommandError> {
    let target = Target {
        dataset: &args.dataset,
        vectors: &args.vectors.0,
        scalar_fields: &[],
        connection: &args.connection,
        api_key: args.api_key.as_deref(),
        results: None,
        keep_engine: false,
    };
    // Held to the end: its directory holds the database and the results.
    let scratch = Scratch::open(target, settings).await?;
    let spec = study_spec(&args, &scratch)?;
    let repositories = &scratch.repositories;
    let studies = StudyService::new(repositories, scratch.settings.studies.limits());
    let study = studies.create(&scratch.caller, spec).await.map_err(|error| flags::in_flags(error, flags::TUNE))?;

    let benchmarks =
        BenchmarkHandler::new(repositories.runs.clone(), scratch.engine.execution(repositories, &scratch.settings));
    let trials = StudyHandler::new(repositories).with_min_sample_points(scratch.settings.studies.min_sample_points);
    let worker =
        JobWorker::new(repositories.jobs.clone(), worker_settings(&scratch.settings), repositories.clock.clone())
            .with_handler(Arc::new(benchmarks))
            .with_handler(Arc::new(trials));
    let wake = scratch.wake.clone();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(Arc::new(worker).run(wake.clone(), shutdown.clone()));
    let jobs = JobService::new(
        repositories.jobs.clone(),
        repositories.workers.clone(),
        repositories.queue.clone(),
        repositories.clock.clone(),
    );
    let ended = watch(&scratch, &jobs, &study).await;
    shutdown.cancel();
    wake.notify_waiters();
    let _stopped = running.await;
    let ended = ended?;
    if ended.status() != JobStatus::Completed {
        return Err(CommandError::new(format!("study {}: {}", ended.status(), ended.error().unwrap_or("cancelled"))));
    }
    let result = ended.result().cloned().unwrap_or_default();
    let report: StudyReport = serde_json::from_value(result.clone()).map_err(CommandError::new)?;
    print!("{}", render(&report, args.target_recall));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&result).map_err(CommandError::new)?;
        std::fs::write(path, text).map_err(|err| CommandError::new(format!("--json {}: {err}", path.display())))?;
    }
    if let Some(path) = &args.html {
        let study = ReportStudy { id: ended.id().to_string(), name: "qbench tune".to_owned(), report };
        let page = render_study(&study, chrono::Utc::now()).map_err(CommandError::new)?;
        std::fs::write(path, page).map_err(|err| CommandError::new(format!("--html {}: {err}", path.display())))?;
        println!("report: {}", path.display());
    }
    Ok(())
}

/// The study `args` describe, on the scratch dataset and connection.
fn study_spec(args: &TuneArgs, scratch: &Scratch) -> Result<StudySpec, CommandError> {
    if args.vectors.0.len() != 1 {
        return Err(CommandError::new(format!(
            "--vectors: {} vectors given; tune one vector at a time (its recommendation is for that vector)",
            args.vectors.0.len()
        )));
    }
    let mut quantization = Vec::new();
    for text in &args.quantization {
        quantization.push(quantization_choice(text).ok_or_else(|| {
            CommandError::new(format!("--quantization: `{text}` is not none, int8, product-x4 … product-x64 or binary"))
        })?);
    }
    let optimise = match args.optimise.as_str() {
        "qps" => Optimise::Qps,
        "p99_latency" => Optimise::P99Latency,
        "memory" => Optimise::Memory,
        other => return Err(CommandError::new(format!("--optimise: `{other}` is not qps, p99_latency or memory"))),
    };
    let strategy = match args.strategy.as_str() {
        "grid" => Strategy::Grid,
        "auto" => Strategy::Auto,
        other => return Err(CommandError::new(format!("--strategy: `{other}` is not grid or auto"))),
    };
    let vectors = args
        .vectors
        .0
        .keys()
        .map(|name| (name.clone(), VectorBuildSpace::new(args.m.clone(), args.ef_construct.clone())))
        .collect();
    let space = StudySpace {
        vectors,
        quantization,
        search: SearchSpace::ef(EfValues::List(args.hnsw_ef.clone())),
        parallel: args.parallel.clone(),
    };
    let objective = Objective { metric: QualityMetric::Recall, target: args.target_recall, optimise };
    let mut spec = StudySpec::new("tune", scratch.dataset.id, scratch.connection.id, space, objective);
    spec.k = args.k;
    spec.constraints = Constraints { max_p99_ms: args.max_p99_ms, min_qps: args.min_qps, max_memory_bytes: None };
    spec.strategy = strategy;
    spec.repetitions = args.repetitions;
    Ok(spec)
}

/// Shows the trials done and the current trial's phase until the study ends; Ctrl-C cancels it.
async fn watch(scratch: &Scratch, jobs: &JobService, study: &Job) -> Result<Job, CommandError> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>8} [{bar:40}] {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let trials = bars.add(ProgressBar::new(0).with_style(style.clone()));
    trials.set_prefix("trials");
    let phase = bars.add(ProgressBar::new(0).with_style(style));
    phase.set_prefix("trial");
    let running =
        JobFilter { kind: Some(JobKind::Benchmark), status: Some(JobStatus::Running), ..JobFilter::default() };
    let mut ticker = tokio::time::interval(Duration::from_millis(200));
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                jobs.cancel(&scratch.caller, study.id()).await.map_err(CommandError::new)?;
            }
            _ = ticker.tick() => {
                let latest = jobs.get(&scratch.caller, study.id()).await.map_err(CommandError::new)?;
                let progress = latest.progress();
                trials.set_length(progress.total.unwrap_or(0));
                trials.set_position(progress.done);
                trials.set_message(progress.phase.clone());
                if latest.status().is_terminal() {
                    trials.finish();
                    phase.finish_and_clear();
                    return Ok(latest);
                }
                let page = Page { limit: 1, offset: 0 };
                if let Ok(listed) = scratch.repositories.jobs.list(running.clone(), page).await
                    && let Some(trial) = listed.items.first()
                {
                    let progress = trial.progress();
                    phase.set_length(progress.total.unwrap_or(0));
                    phase.set_position(progress.done);
                    phase.set_message(progress.phase.clone());
                }
            }
        }
    }
}

/// The points, the recall-vs-QPS front and the recommendation with its Qdrant JSON.
fn render(report: &StudyReport, target: f64) -> String {
    let mut out = format!(
        "{:<4} {:<34} {:<12} {:>8} {:>10} {:>10} {:>6}\n",
        "#", "build", "setting", "recall", "qps", "p99 ms", "front"
    );
    for (index, point) in report.points.iter().enumerate() {
        let measured = &point.point;
        let on_front = report.fronts.recall_vs_qps.contains(&index);
        out.push_str(&format!(
            "{:<4} {:<34} {:<12} {:>8.4} {:>10.1} {:>10.3} {:>6}\n",
            index,
            measured.build.label(),
            measured.setting.label(),
            measured.quality.recall,
            measured.qps,
            measured.p99_seconds * 1e3,
            if on_front { "*" } else { "" },
        ));
    }
    let full = report.builds_made - report.sample_builds;
    out.push_str(&format!(
        "{full} of the grid's {} builds made on all the points, {} on samples, in {:.1} s\n",
        report.grid.builds, report.sample_builds, report.seconds
    ));
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    match &report.recommendation {
        None => out.push_str("nothing was measured\n"),
        Some(chosen) => {
            let point = report.points.get(chosen.point).map(|point| &point.point);
            let label = point.map(|p| format!("{} {}", p.build.label(), p.setting.label())).unwrap_or_default();
            if chosen.meets_target {
                out.push_str(&format!("recommended (#{}, recall ≥ {target}): {label}\n", chosen.point));
            } else {
                out.push_str(&format!("nothing reaches recall {target}; closest (#{}): {label}\n", chosen.point));
            }
            let collection = serde_json::to_string_pretty(&chosen.qdrant.collection).unwrap_or_default();
            let search = serde_json::to_string_pretty(&chosen.qdrant.search_params).unwrap_or_default();
            out.push_str(&format!("PUT /collections/{{name}}\n{collection}\nsearch params\n{search}\n"));
        }
    }
    out
}
