//! Firing the test queries: per vector and search setting, a warm-up, then `repetitions` passes
//! with `parallel` concurrent clients, each query timed. A pass sends every query once and goes on
//! cycling through them until it has lasted the minimum duration, so a setting's QPS never rests
//! on a few milliseconds; the passes give each figure a confidence interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qbench_domain::metrics::{
    LatencySummary, MeanInterval, QualitySummary, QueryQuality, Returned, mean_interval, query_quality,
};
use qbench_domain::study::{EfBisection, EfOutcome, QualityMetric};
use qbench_domain::{Distance, EfSearch, SearchQuantization, VectorName};
use qbench_vector_store::{SearchParams, SearchRequest, SearchResponse, VectorStore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::ground_truth::GroundTruth;
use crate::execution::plan::{self, RunPlan, SearchSetting};
use crate::execution::queries::{QuerySet, cancelled};
use crate::execution::{ExecutionError, Phase, ProgressSink};

/// A query's sequence number in its pass (its index is that modulo the number of queries), its
/// latency, and the engine's answer when it is kept (the first visit of each query in the first
/// pass: the one scored).
type Answer = (usize, Duration, Option<SearchResponse>);

/// One measured query.
#[derive(Debug, Clone)]
pub(crate) struct MeasuredQuery {
    pub(crate) latency: Duration,
    pub(crate) response: SearchResponse,
    pub(crate) quality: QueryQuality,
}

/// One measured pass of a setting: every query at least once, and the queries cycled through
/// until the pass has lasted the minimum duration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pass {
    /// Queries answered.
    pub(crate) queries: usize,
    /// Wall time of the pass.
    pub(crate) seconds: f64,
    /// Queries answered per second.
    pub(crate) qps: f64,
    /// Latencies of the pass.
    pub(crate) latency: LatencySummary,
}

/// The outcome of one (vector, setting) batch.
#[derive(Debug, Clone)]
pub(crate) struct SettingResult {
    pub(crate) vector: VectorName,
    pub(crate) setting: SearchSetting,
    pub(crate) parallel: usize,
    pub(crate) quality: QualitySummary,
    /// Latencies of every pass together.
    pub(crate) latency: LatencySummary,
    pub(crate) server_latency: Option<LatencySummary>,
    /// Mean QPS of the passes.
    pub(crate) qps: f64,
    /// Wall time of every pass together.
    pub(crate) seconds: f64,
    /// Each pass, in order.
    pub(crate) passes: Vec<Pass>,
    /// The mean of the passes' QPS, with its 95 % confidence interval.
    pub(crate) qps_interval: MeanInterval,
    /// The passes' p50, p95 and p99 latencies, each a mean with its interval.
    pub(crate) latency_intervals: [MeanInterval; 3],
    /// The first visit of each query in the first pass, scored.
    pub(crate) queries: Vec<MeasuredQuery>,
}

impl SettingResult {
    /// Whether the QPS or the p99 interval is wider than ±10 % of its mean: the figure moves too
    /// much between passes to compare with a neighbour's.
    pub(crate) fn is_unstable(&self) -> bool {
        self.qps_interval.is_wide() || self.latency_intervals[2].is_wide()
    }
}

/// The smallest `hnsw_ef` of `ef_search` that reaches its target on `vector`, by bisection over
/// one quick pass per candidate (quality does not depend on timing), as the setting to measure in
/// full. When even the largest misses, that one is measured, named as such.
#[allow(clippy::too_many_arguments)]
async fn find_ef(
    plan: &RunPlan,
    store: &Arc<dyn VectorStore>,
    queries: &Arc<QuerySet>,
    truth: &GroundTruth,
    vector: &VectorName,
    ef_search: &EfSearch,
    quantization: Option<SearchQuantization>,
    warmup: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<SearchSetting, ExecutionError> {
    let phase = Phase::Search;
    let mut bisection = EfBisection::new(ef_search.min, ef_search.max, ef_search.target)
        .map_err(|error| ExecutionError::failed(phase, error.to_string()))?;
    let quick = Measurement { min_duration: Duration::ZERO, repetitions: 1, parallel: 1 };
    let search = &plan.experiment.spec.search_config;
    let setting = |ef: u32, chosen_by: Option<String>, flag: Option<String>| SearchSetting {
        label: plan::setting_label(Some(ef), quantization.as_ref(), search),
        params: SearchParams { hnsw_ef: Some(ef), exact: false, quantization: quantization.clone() },
        chosen_by,
        flag,
    };
    while let Some(ef) = bisection.next() {
        cancelled(cancel)?;
        let probe = setting(ef, None, None);
        let measured = search_one(plan, store, queries, truth, vector, &probe, warmup, quick, progress, cancel).await?;
        let quality = match ef_search.metric {
            QualityMetric::Recall => measured.quality.recall,
            QualityMetric::Precision => measured.quality.precision,
            QualityMetric::F1 => measured.quality.f1,
        };
        bisection.record(ef, quality);
    }
    let probes = bisection.measured();
    let (min, max, metric, target) = (ef_search.min, ef_search.max, ef_search.metric, ef_search.target);
    match bisection.outcome() {
        EfOutcome::Reached { ef, quality } => Ok(setting(
            ef,
            Some(format!(
                "bisection: the smallest hnsw_ef in {min}..={max} reaching {metric} {target} ({quality:.4} on a \
                 quick pass; {probes} candidates probed)"
            )),
            None,
        )),
        EfOutcome::Unreachable { best_ef, best_quality } => Ok(setting(
            best_ef,
            Some(format!(
                "bisection: the best hnsw_ef in {min}..={max} ({best_quality:.4} on a quick pass; {probes} \
                 candidates probed)"
            )),
            Some(format!("unreachable: no hnsw_ef in {min}..={max} reaches {metric} {target} on this build")),
        )),
        EfOutcome::Pending => Err(ExecutionError::failed(phase, "the hnsw_ef search ended without an answer")),
    }
}

/// How long each pass of a setting lasts, at least, and how many there are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measurement {
    pub(crate) min_duration: Duration,
    pub(crate) repetitions: usize,
    /// Concurrent clients.
    pub(crate) parallel: usize,
}

/// The engine's score as an oriented distance (lower is closer), as the ground truth holds them.
fn score_as_distance(distance: Distance, score: f32) -> f64 {
    let score = f64::from(score);
    match distance {
        Distance::Cosine => 1.0 - score,
        Distance::Dot => -score,
        Distance::Euclid | Distance::Manhattan => score,
    }
}

/// Runs every search setting for every searched vector.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn search_all(
    plan: &RunPlan,
    store: &Arc<dyn VectorStore>,
    queries: &Arc<QuerySet>,
    truth: &GroundTruth,
    warmup: usize,
    measurement: Measurement,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<Vec<SettingResult>, ExecutionError> {
    let mut results = Vec::new();
    let counts = plan.experiment.spec.search_config.client_counts();
    for vector in &plan.search_vectors {
        let mut found = Vec::new();
        let settings = match plan.experiment.spec.search_config.hnsw_ef_search {
            None => plan.settings.as_slice(),
            Some(ef_search) => {
                // One bisection per set of quantization parameters, then the other settings (exact).
                for quantization in plan::quantization_choices(&plan.experiment) {
                    let setting = find_ef(
                        plan,
                        store,
                        queries,
                        truth,
                        vector,
                        &ef_search,
                        quantization,
                        warmup,
                        progress,
                        cancel,
                    )
                    .await?;
                    found.push(setting);
                }
                found.extend(plan.settings.iter().cloned());
                found.as_slice()
            }
        };
        for setting in settings {
            for &parallel in &counts {
                cancelled(cancel)?;
                let measurement = Measurement { parallel: parallel as usize, ..measurement };
                let result =
                    search_one(plan, store, queries, truth, vector, setting, warmup, measurement, progress, cancel)
                        .await?;
                results.push(result);
            }
        }
    }
    Ok(results)
}

#[allow(clippy::too_many_arguments)]
async fn search_one(
    plan: &RunPlan,
    store: &Arc<dyn VectorStore>,
    queries: &Arc<QuerySet>,
    truth: &GroundTruth,
    vector: &VectorName,
    setting: &SearchSetting,
    warmup: usize,
    measurement: Measurement,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<SettingResult, ExecutionError> {
    let phase = Phase::Search;
    let spec = plan
        .vector(vector)
        .ok_or_else(|| ExecutionError::failed(phase, format!("vector `{vector}` is not in the collection")))?;
    let (dim, distance) = (spec.dim.get() as usize, spec.distance);
    let k = plan.experiment.spec.search_config.k;
    let parallel = measurement.parallel.max(1);
    let collection = plan.collection.name.clone();

    for index in 0..warmup.min(queries.len()) {
        cancelled(cancel)?;
        let query = queries.vector(vector, dim, index).unwrap_or_default();
        let request = SearchRequest { vector, query, k, params: &setting.params };
        store.search(&collection, request).await.in_phase(phase)?;
    }

    let client =
        Client { store, queries, vector, dim, k, collection: &collection, setting, parallel, progress, cancel };
    let mut passes = Vec::with_capacity(measurement.repetitions);
    let mut latencies = Vec::new();
    let mut scored = Vec::new();
    for repetition in 0..measurement.repetitions.max(1) {
        let (seconds, mut answers) = client.pass(measurement.min_duration, repetition == 0).await?;
        let pass: Vec<Duration> = answers.iter().map(|(_, latency, _)| *latency).collect();
        passes.push(Pass {
            queries: pass.len(),
            seconds,
            qps: if seconds > 0.0 { pass.len() as f64 / seconds } else { 0.0 },
            latency: LatencySummary::from_latencies(&pass),
        });
        latencies.extend(pass);
        if repetition == 0 {
            answers.retain(|(_, _, response)| response.is_some());
            answers.sort_by_key(|(sequence, _, _)| *sequence);
            scored = answers;
        }
    }

    let exact_scores = plan.scores_are_exact(setting);
    let empty = Vec::new();
    let truths = truth.neighbors.get(vector).unwrap_or(&empty);
    let queries_measured: Vec<MeasuredQuery> = scored
        .into_iter()
        .filter_map(|(index, latency, response)| Some((index, latency, response?)))
        .map(|(index, latency, response)| {
            let returned: Vec<Returned<_>> = response
                .points
                .iter()
                .map(|point| Returned {
                    id: point.id,
                    distance: exact_scores.then(|| score_as_distance(distance, point.score)),
                })
                .collect();
            let truth = truths.get(index).map_or(&[][..], Vec::as_slice);
            let quality = query_quality(&returned, truth, k as usize);
            MeasuredQuery { latency, response, quality }
        })
        .collect();
    let qualities: Vec<QueryQuality> = queries_measured.iter().map(|query| query.quality).collect();
    let server: Option<Vec<Duration>> = queries_measured.iter().map(|query| query.response.server_time).collect();
    let of_passes = |figure: fn(&Pass) -> f64| mean_interval(&passes.iter().map(figure).collect::<Vec<f64>>());
    Ok(SettingResult {
        vector: vector.clone(),
        setting: setting.clone(),
        parallel,
        quality: QualitySummary::mean(&qualities),
        latency: LatencySummary::from_latencies(&latencies),
        server_latency: server.map(|times| LatencySummary::from_latencies(&times)),
        qps: of_passes(|pass| pass.qps).mean,
        seconds: passes.iter().map(|pass| pass.seconds).sum(),
        qps_interval: of_passes(|pass| pass.qps),
        latency_intervals: [
            of_passes(|pass| pass.latency.p50),
            of_passes(|pass| pass.latency.p95),
            of_passes(|pass| pass.latency.p99),
        ],
        passes,
        queries: queries_measured,
    })
}

/// What the search clients of one setting share.
struct Client<'a> {
    store: &'a Arc<dyn VectorStore>,
    queries: &'a Arc<QuerySet>,
    vector: &'a VectorName,
    dim: usize,
    k: u32,
    collection: &'a str,
    setting: &'a SearchSetting,
    parallel: usize,
    progress: &'a ProgressSink,
    cancel: &'a CancellationToken,
}

impl Client<'_> {
    /// One pass: `parallel` clients take queries in turn until every query was sent once and
    /// `min_duration` has passed, each query timed; the answers of the first visits are kept when
    /// `keep_answers`. Returns the pass's wall time and its answers.
    async fn pass(&self, min_duration: Duration, keep_answers: bool) -> Result<(f64, Vec<Answer>), ExecutionError> {
        let phase = Phase::Search;
        let count = self.queries.len();
        // Each client is one thread of its own that sends a query, waits for the answer and sends
        // the next, as a benchmark client does: an engine that searches on the caller's thread
        // (the embedded one) then runs each client's queries on it, with no hand-over.
        let runtime = tokio::runtime::Handle::current();
        let next = Arc::new(AtomicUsize::new(0));
        // Stops the other clients when one fails.
        let stop = self.cancel.child_token();
        let started = Instant::now();
        let mut clients: JoinSet<Result<Vec<Answer>, ExecutionError>> = JoinSet::new();
        for _ in 0..self.parallel {
            let (store, queries, next, stop, runtime) =
                (self.store.clone(), self.queries.clone(), next.clone(), stop.clone(), runtime.clone());
            let (collection, vector, params, progress) =
                (self.collection.to_owned(), self.vector.clone(), self.setting.params.clone(), self.progress.clone());
            let (dim, k) = (self.dim, self.k);
            clients.spawn_blocking(move || {
                let client = async {
                    let mut measured = Vec::new();
                    loop {
                        let sequence = next.fetch_add(1, Ordering::Relaxed);
                        let done = sequence >= count && started.elapsed() >= min_duration;
                        if done || count == 0 || stop.is_cancelled() {
                            return Ok(measured);
                        }
                        let index = sequence % count;
                        let query = queries.vector(&vector, dim, index).unwrap_or_default();
                        let request = SearchRequest { vector: &vector, query, k, params: &params };
                        let sent = Instant::now();
                        let response = store.search(&collection, request).await.in_phase(phase)?;
                        let first_visit = sequence < count;
                        measured.push((sequence, sent.elapsed(), (keep_answers && first_visit).then_some(response)));
                        if first_visit {
                            progress.advance(1);
                        }
                    }
                };
                let outcome = runtime.block_on(client);
                if outcome.is_err() {
                    stop.cancel();
                }
                outcome
            });
        }
        let mut measured = Vec::with_capacity(count);
        while let Some(done) = clients.join_next().await {
            let client =
                done.map_err(|error| ExecutionError::failed(phase, format!("a search client failed: {error}")))?;
            measured.extend(client?);
        }
        cancelled(self.cancel)?;
        Ok((started.elapsed().as_secs_f64(), measured))
    }
}
