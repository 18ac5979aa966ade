//! Executing a study: each build of its space is a trial run, queued like any run and executed by
//! whichever worker takes it; the study waits for each, then assembles the report. `auto` first
//! builds on growing samples of the points and keeps the best third each round (successive
//! halving), so that only the survivors are built on the full data.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use qbench_domain::report::RunReport;
use qbench_domain::study::TrialSnapshot;
use qbench_domain::study::{
    BuildConfig, DEFAULT_MIN_SAMPLE_POINTS, Objective, Strategy, StudyPayload, StudyPoint, StudyReport, StudySpec,
    SuccessiveHalving, TrialPoint, TrialReport, grid_cost, sample_rounds, sample_score, sample_target,
    strongest_graphs,
};
use qbench_domain::{Experiment, Job, JobKind, LocalAccess, PointSample, Progress, Run, RunStatus, SnapshotStatus};
use qbench_repository::{DatasetRepository, ExperimentRepository, JobQueue, RunRepository};
use qbench_storage::ArchiveStore;
use qbench_vector_store::VectorStoreProvider;

use crate::jobs::{JobContext, JobError, JobHandler, JobOutcome};
use crate::snapshots::handler::Archiver;
use crate::studies::reuse::{Reusable, StudySnapshots};
use crate::studies::trial;
use crate::{Clock, Repositories};

/// How often a study looks at its current trial.
const POLL: Duration = Duration::from_millis(100);

/// The seed of `auto`'s samples: fixed, so a study repeated on the same data builds on the same
/// points (and reuses their ground truth), and each round's sample holds the smaller ones'.
const SAMPLE_SEED: u32 = 0;

/// Executes `study` jobs.
pub struct StudyHandler {
    experiments: Arc<dyn ExperimentRepository>,
    datasets: Arc<dyn DatasetRepository>,
    runs: Arc<dyn RunRepository>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    min_sample_points: u64,
    snapshots: Option<StudySnapshots>,
}

impl StudyHandler {
    /// A handler storing trials in the experiments and runs of `repositories` and announcing them
    /// on their queue.
    pub fn new(repositories: &Repositories) -> Self {
        Self {
            experiments: repositories.experiments.clone(),
            datasets: repositories.datasets.clone(),
            runs: repositories.runs.clone(),
            queue: repositories.queue.clone(),
            clock: repositories.clock.clone(),
            min_sample_points: DEFAULT_MIN_SAMPLE_POINTS,
            snapshots: None,
        }
    }

    /// The same handler restoring builds from snapshots of the study owner's, and keeping builds
    /// as snapshots when a study asks (`keep_snapshots`), through `archives` and `stores`.
    #[must_use]
    pub fn with_snapshots(
        self,
        repositories: &Repositories,
        archives: Arc<dyn ArchiveStore>,
        stores: Arc<dyn VectorStoreProvider>,
        access: LocalAccess,
    ) -> Self {
        let snapshots = StudySnapshots {
            snapshots: repositories.snapshots.clone(),
            runs: repositories.runs.clone(),
            archiver: Archiver::new(repositories, archives, stores, access),
        };
        Self { snapshots: Some(snapshots), ..self }
    }

    /// The same handler building `auto`'s sample rounds on at least `points` points (rounds on
    /// fewer are left out).
    #[must_use]
    pub fn with_min_sample_points(self, points: u64) -> Self {
        Self { min_sample_points: points, ..self }
    }

    /// Waits for `run` to end; on cancel, cancels it (its worker stops at the next heartbeat).
    async fn wait(&self, run: &Run, context: &JobContext) -> Result<Run, JobError> {
        loop {
            tokio::select! {
                () = context.cancel.cancelled() => {
                    self.cancel_trial(run).await;
                    return Err(JobError::Cancelled);
                }
                () = tokio::time::sleep(POLL) => {}
            }
            let current = self.runs.get(run.id()).await.map_err(|error| JobError::Failed(error.to_string()))?;
            if current.status().is_terminal() {
                return Ok(current);
            }
        }
    }

    async fn cancel_trial(&self, run: &Run) {
        for _ in 0..3 {
            let Ok(mut current) = self.runs.get(run.id()).await else { return };
            let status = current.status();
            if status.is_terminal() || current.cancel(self.clock.now()).is_err() {
                return;
            }
            if self.runs.update(&current, status).await.is_ok() {
                return;
            }
        }
        tracing::warn!(run_id = %run.id(), "the study's current trial could not be cancelled");
    }
}

/// Where a study stands between trials.
struct Progressing<'a> {
    job: &'a Job,
    spec: &'a StudySpec,
    context: &'a JobContext,
    started: Instant,
    /// Trials made and the planned total, for progress.
    done: u64,
    total: u64,
    trials: Vec<TrialReport>,
    points: Vec<StudyPoint>,
    notes: Vec<String>,
    /// Snapshots of builds this study may restore instead of building.
    reusable: Vec<Reusable>,
}

impl Progressing<'_> {
    /// Reports `phase` with the trials done and planned, and the study's rate so far (trials a
    /// second since it started), from which a reader estimates the time left.
    fn report(&self, phase: String) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let rate = (self.done > 0 && elapsed > 0.0).then(|| self.done as f64 / elapsed);
        self.context.progress.set(Progress { phase, done: self.done, total: Some(self.total), rate });
    }

    /// Whether `budget.max_seconds` has passed; notes it once.
    fn out_of_time(&mut self, left: usize) -> bool {
        let Some(max) = self.spec.budget.max_seconds else { return false };
        if self.started.elapsed().as_secs() < max {
            return false;
        }
        self.notes.push(format!(
            "budget.max_seconds: {max} s had passed after {} trials; {left} planned builds were not made",
            self.done
        ));
        true
    }
}

impl StudyHandler {
    /// Builds and measures `build` in one trial run (on `sample` of the points when given), and
    /// records it; answers its report when it completed.
    async fn trial(
        &self,
        at: &mut Progressing<'_>,
        build: &BuildConfig,
        sample: Option<PointSample>,
    ) -> Result<Option<RunReport>, JobError> {
        let failed = |what: &str, error: &dyn std::fmt::Display| JobError::Failed(format!("{what}: {error}"));
        let label = build.label();
        let on = sample.map_or(String::new(), |sample| format!(" on {:.1} % of the points", sample.fraction * 100.0));
        let number = at.done + 1;
        at.report(format!("trial {number}/{}: {label}{on}", at.total));
        let short_id: String = at.job.id().to_string().chars().take(8).collect();
        let name = format!("study {short_id} · {label}{on}");
        let mut experiment_spec = trial::experiment_spec(at.spec, build, name);
        if let Some(sample) = sample {
            trial::on_sample(&mut experiment_spec, sample);
        }
        let building = experiment_spec.clone();
        let restored = sample.is_none().then(|| StudySnapshots::restore_instead(&mut experiment_spec, &at.reusable));
        let restored = restored.flatten();
        let keep = match (&self.snapshots, &at.spec.keep_snapshots) {
            (Some(snapshots), Some(vault)) if sample.is_none() && restored.is_none() => {
                experiment_spec.keep_collection = true;
                Some((snapshots, vault.clone()))
            }
            _ => None,
        };
        let experiment = Experiment::new(experiment_spec, at.job.owner(), self.clock.now());
        self.experiments.insert(&experiment).await.map_err(|error| failed("trial experiment", &error))?;
        let queued = Instant::now();
        let run = Run::trial(&experiment, at.job.id(), at.job.owner(), self.clock.now());
        self.runs.insert(&run).await.map_err(|error| failed("trial run", &error))?;
        if let Err(error) = self.queue.enqueue(run.job().id()).await {
            tracing::warn!(run_id = %run.id(), %error, "trial stored but not announced to the queue");
        }
        let ended = self.wait(&run, at.context).await?;
        let mut snapshot = restored.map(|snapshot| TrialSnapshot { snapshot_id: snapshot.id, restored: true });
        if let Some((snapshots, vault)) = keep
            && ended.status() == RunStatus::Completed
        {
            let kept =
                snapshots.keep(self.clock.as_ref(), &ended, vault, at.spec.connection_id, &at.context.cancel).await?;
            snapshot = Some(TrialSnapshot { snapshot_id: kept.id, restored: false });
            if kept.status == SnapshotStatus::Ready {
                at.reusable.push(Reusable::kept(kept, building));
            }
        }
        let seconds = queued.elapsed().as_secs_f64();
        let report = (ended.status() == RunStatus::Completed).then(|| ended.report()).flatten();
        if sample.is_none()
            && let Some(report) = &report
        {
            at.points.extend(trial::points(build, report).into_iter().map(|(vector, point)| StudyPoint {
                run_id: ended.id().to_string(),
                vector,
                point,
            }));
        }
        at.trials.push(TrialReport {
            run_id: ended.id().to_string(),
            label,
            build: build.clone(),
            status: ended.status().as_str().to_owned(),
            error: ended.error().map(str::to_owned),
            seconds,
            run_seconds: report.as_ref().map(|report| report.total_seconds),
            sample,
            snapshot,
        });
        at.done += 1;
        at.report(format!("trial {number}/{} done", at.total));
        Ok(report)
    }

    /// One round of `auto` on `fraction` of the points: every candidate built on the sample, the
    /// best third kept by [`SuccessiveHalving`]. When none reaches the target on the sample, the
    /// one that came closest is kept, so the full data still shows how far the target is.
    async fn sample_round(
        &self,
        at: &mut Progressing<'_>,
        candidates: Vec<BuildConfig>,
        fraction: f64,
    ) -> Result<Option<Vec<BuildConfig>>, JobError> {
        let sample = PointSample { fraction, seed: SAMPLE_SEED };
        let objective = Objective { target: sample_target(at.spec.objective.target, fraction), ..at.spec.objective };
        let mut round = SuccessiveHalving::new(candidates.clone(), SuccessiveHalving::KEEP_THIRD, objective.optimise)
            .map_err(|error| JobError::Failed(error.to_string()))?;
        let mut closest: Option<(usize, f64)> = None;
        // What each build scored, for the note: the reader sees why the survivors were kept.
        let mut scored = vec![String::from("not measured"); candidates.len()];
        for (index, build) in candidates.iter().enumerate() {
            if at.context.cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            if at.out_of_time(candidates.len() - index) {
                return Ok(None);
            }
            let Some(report) = self.trial(at, build, Some(sample)).await? else {
                round.record(index, None).map_err(|error| JobError::Failed(error.to_string()))?;
                continue;
            };
            let points: Vec<TrialPoint> = trial::points(build, &report).into_iter().map(|(_, point)| point).collect();
            let score = sample_score(&points, &objective);
            round.record(index, score).map_err(|error| JobError::Failed(error.to_string()))?;
            let settings: Vec<String> = points.iter().map(|point| point.setting.label()).collect();
            scored[index] = score.map_or_else(
                || format!("misses the target ({})", settings.join(", ")),
                |score| format!("{score:.4} {} ({})", objective.optimise, settings.join(", ")),
            );
            let best = points.iter().map(|point| point.quality.get(objective.metric)).fold(f64::NAN, f64::max);
            if !best.is_nan() && closest.is_none_or(|(_, quality)| best > quality) {
                closest = Some((index, best));
            }
        }
        let mut kept = round.survivors();
        let labels =
            |kept: &[usize]| kept.iter().map(|index| candidates[*index].label()).collect::<Vec<_>>().join("; ");
        let scores = candidates
            .iter()
            .zip(&scored)
            .map(|(build, score)| format!("{}: {score}", build.label()))
            .collect::<Vec<_>>()
            .join("; ");
        if kept.is_empty() {
            let Some((index, quality)) = closest else {
                at.notes.push(format!("no build completed on {:.1} % of the points", fraction * 100.0));
                return Ok(Some(Vec::new()));
            };
            kept.push(index);
            at.notes.push(format!(
                "no build reached {} {} on {:.1} % of the points; the closest ({}, {quality:.4}) was kept to see how far the full data is",
                objective.metric,
                objective.target,
                fraction * 100.0,
                labels(&kept)
            ));
        } else {
            at.notes.push(format!(
                "auto on {:.1} % of the points ({} {:.4} asked of the sample): {} builds, kept {} by {}: {} (scored {scores})",
                fraction * 100.0,
                objective.metric,
                objective.target,
                candidates.len(),
                kept.len(),
                objective.optimise,
                labels(&kept)
            ));
        }
        Ok(Some(kept.into_iter().map(|index| candidates[index].clone()).collect()))
    }
}

#[async_trait]
impl JobHandler for StudyHandler {
    fn kind(&self) -> JobKind {
        JobKind::Study
    }

    async fn execute(&self, job: &Job, context: &JobContext) -> Result<JobOutcome, JobError> {
        let failed = |what: &str, error: &dyn std::fmt::Display| JobError::Failed(format!("{what}: {error}"));
        let payload: StudyPayload =
            serde_json::from_value(job.payload().clone()).map_err(|error| failed("study payload", &error))?;
        let spec = payload.spec;
        let dataset = self.datasets.get(spec.dataset_id).await.map_err(|error| failed("dataset", &error))?;
        let mut builds = spec.space.builds();
        let mut notes = Vec::new();
        if spec.strategy == Strategy::Auto {
            let strongest = strongest_graphs(&builds);
            if strongest.len() < builds.len() {
                notes.push(format!(
                    "auto built {} of the space's {} builds: only the largest ef_construct of each graph, which builds \
                     a graph at least as good for the same search cost and memory (it costs indexing time only)",
                    strongest.len(),
                    builds.len()
                ));
                builds = strongest;
            }
        }
        if let Some(max) = spec.budget.max_builds
            && builds.len() > max as usize
        {
            notes.push(format!("budget.max_builds: {max} of the space's {} builds were made", builds.len()));
            builds.truncate(max as usize);
        }
        // `auto` prunes builds on samples first, when the dataset is known to be large enough.
        let rounds = match (spec.strategy, &dataset.inspection) {
            (Strategy::Auto, Some(inspection)) => {
                sample_rounds(builds.len(), inspection.train_rows, self.min_sample_points)
            }
            (Strategy::Auto, None) if builds.len() > 1 => {
                notes.push(
                    "the dataset was never inspected, so no sample could be sized: every build was made on all the points \
                     (inspect it: POST /api/v1/datasets/{id}/inspect)"
                        .to_owned(),
                );
                Vec::new()
            }
            _ => Vec::new(),
        };
        let mut planned = builds.len() as u64;
        let mut left = builds.len();
        for _ in &rounds {
            left = left.div_ceil(3);
            planned += left as u64;
        }
        let reusable = match &self.snapshots {
            Some(snapshots) => snapshots.reusable(job.owner(), spec.dataset_id).await?,
            None => Vec::new(),
        };
        let mut at = Progressing {
            job,
            spec: &spec,
            context,
            started: Instant::now(),
            done: 0,
            total: planned,
            trials: Vec::new(),
            points: Vec::new(),
            notes,
            reusable,
        };
        let mut candidates = builds;
        let mut stopped = false;
        for fraction in rounds {
            let before = candidates.len();
            match self.sample_round(&mut at, candidates, fraction).await? {
                Some(kept) => {
                    // A round keeping fewer than planned shortens the rest.
                    at.total = at.total.saturating_sub(before.div_ceil(3).saturating_sub(kept.len()) as u64);
                    candidates = kept;
                }
                None => {
                    stopped = true;
                    candidates = Vec::new();
                }
            }
            // Out of time, or nothing left to build: the later rounds have nothing to do.
            if candidates.is_empty() {
                break;
            }
        }
        for (index, build) in candidates.iter().enumerate() {
            if context.cancel.is_cancelled() {
                return Err(JobError::Cancelled);
            }
            if !stopped && at.out_of_time(candidates.len() - index) {
                break;
            }
            self.trial(&mut at, build, None).await?;
        }
        let Progressing { started, trials, points, mut notes, .. } = at;
        let restored = trials.iter().filter(|trial| trial.snapshot.as_ref().is_some_and(|s| s.restored)).count();
        if restored > 0 {
            notes.push(format!(
                "{restored} of {} builds were restored from snapshots made before instead of built: nothing uploaded or \
                 indexed for them (their build times are those of the runs that built them)",
                trials.iter().filter(|trial| trial.sample.is_none()).count()
            ));
        }
        let kept = trials.iter().filter(|trial| trial.snapshot.as_ref().is_some_and(|s| !s.restored)).count();
        if kept > 0 {
            notes
                .push(format!("{kept} builds were kept as snapshots: a later study restores them instead of building"));
        }
        let report = StudyReport::assemble(
            trials,
            points,
            &spec.objective,
            &spec.constraints,
            &dataset.spec.schema_config,
            grid_cost(&spec.space),
            started.elapsed().as_secs_f64(),
        )
        .map_err(|error| failed("study report", &error))?;
        let report = StudyReport { notes, ..report };
        let result = serde_json::to_value(&report).map_err(|error| failed("study report", &error))?;
        Ok(JobOutcome::Completed(result))
    }
}
