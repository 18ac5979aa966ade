//! Firing the test queries: per vector and search setting, a warm-up, then every query with
//! `parallel` concurrent clients, each query timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qbench_domain::metrics::{LatencySummary, QualitySummary, QueryQuality, Returned, query_quality};
use qbench_domain::{Distance, VectorName};
use qbench_vector_store::{SearchRequest, SearchResponse, VectorStore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::ground_truth::GroundTruth;
use crate::execution::plan::{RunPlan, SearchSetting};
use crate::execution::queries::{QuerySet, cancelled};
use crate::execution::{ExecutionError, Phase, ProgressSink};

/// A query's index, its latency and the engine's answer, as a search client records them.
type Answer = (usize, Duration, SearchResponse);

/// One measured query.
#[derive(Debug, Clone)]
pub(crate) struct MeasuredQuery {
    pub(crate) latency: Duration,
    pub(crate) response: SearchResponse,
    pub(crate) quality: QueryQuality,
}

/// The outcome of one (vector, setting) batch.
#[derive(Debug, Clone)]
pub(crate) struct SettingResult {
    pub(crate) vector: VectorName,
    pub(crate) setting: SearchSetting,
    pub(crate) parallel: usize,
    pub(crate) quality: QualitySummary,
    pub(crate) latency: LatencySummary,
    pub(crate) server_latency: Option<LatencySummary>,
    pub(crate) qps: f64,
    pub(crate) seconds: f64,
    pub(crate) queries: Vec<MeasuredQuery>,
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
pub(crate) async fn search_all(
    plan: &RunPlan,
    store: &Arc<dyn VectorStore>,
    queries: &Arc<QuerySet>,
    truth: &GroundTruth,
    warmup: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<Vec<SettingResult>, ExecutionError> {
    let mut results = Vec::new();
    for vector in &plan.search_vectors {
        for setting in &plan.settings {
            cancelled(cancel)?;
            results.push(search_one(plan, store, queries, truth, vector, setting, warmup, progress, cancel).await?);
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
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<SettingResult, ExecutionError> {
    let phase = Phase::Search;
    let spec = plan
        .vector(vector)
        .ok_or_else(|| ExecutionError::failed(phase, format!("vector `{vector}` is not in the collection")))?;
    let (dim, distance) = (spec.dim.get() as usize, spec.distance);
    let k = plan.experiment.spec.search_config.k;
    let parallel = plan.experiment.spec.search_config.parallel.max(1) as usize;
    let collection = plan.collection.name.clone();

    for index in 0..warmup.min(queries.len()) {
        cancelled(cancel)?;
        let query = queries.vector(vector, dim, index).unwrap_or_default();
        let request = SearchRequest { vector, query, k, params: &setting.params };
        store.search(&collection, request).await.in_phase(phase)?;
    }

    // Each client is one thread of its own that sends a query, waits for the answer and sends the
    // next, as a benchmark client does: an engine that searches on the caller's thread (the
    // embedded one) then runs each client's queries on it, with no hand-over between threads.
    let runtime = tokio::runtime::Handle::current();
    let next = Arc::new(AtomicUsize::new(0));
    // Stops the other clients when one fails.
    let stop = cancel.child_token();
    let started = Instant::now();
    let mut clients: JoinSet<Result<Vec<Answer>, ExecutionError>> = JoinSet::new();
    for _ in 0..parallel {
        let (store, queries, next, stop, runtime) =
            (store.clone(), queries.clone(), next.clone(), stop.clone(), runtime.clone());
        let (collection, vector, params, progress) =
            (collection.clone(), vector.clone(), setting.params.clone(), progress.clone());
        clients.spawn_blocking(move || {
            let client = async {
                let mut measured = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= queries.len() || stop.is_cancelled() {
                        return Ok(measured);
                    }
                    let query = queries.vector(&vector, dim, index).unwrap_or_default();
                    let request = SearchRequest { vector: &vector, query, k, params: &params };
                    let sent = Instant::now();
                    let response = store.search(&collection, request).await.in_phase(phase)?;
                    measured.push((index, sent.elapsed(), response));
                    progress.advance(1);
                }
            };
            let outcome = runtime.block_on(client);
            if outcome.is_err() {
                stop.cancel();
            }
            outcome
        });
    }
    let mut measured = Vec::with_capacity(queries.len());
    while let Some(done) = clients.join_next().await {
        let client = done.map_err(|error| ExecutionError::failed(phase, format!("a search client failed: {error}")))?;
        measured.extend(client?);
    }
    cancelled(cancel)?;
    let seconds = started.elapsed().as_secs_f64();
    measured.sort_by_key(|(index, _, _)| *index);

    let exact_scores = plan.scores_are_exact(setting);
    let empty = Vec::new();
    let truths = truth.neighbors.get(vector).unwrap_or(&empty);
    let queries_measured: Vec<MeasuredQuery> = measured
        .into_iter()
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
    let latencies: Vec<Duration> = queries_measured.iter().map(|query| query.latency).collect();
    let server: Option<Vec<Duration>> = queries_measured.iter().map(|query| query.response.server_time).collect();
    Ok(SettingResult {
        vector: vector.clone(),
        setting: setting.clone(),
        parallel,
        quality: QualitySummary::mean(&qualities),
        latency: LatencySummary::from_latencies(&latencies),
        server_latency: server.map(|times| LatencySummary::from_latencies(&times)),
        qps: if seconds > 0.0 { queries_measured.len() as f64 / seconds } else { 0.0 },
        seconds,
        queries: queries_measured,
    })
}
