//! The exact neighbours every query is scored against, per vector: the dataset's neighbours file
//! for that vector, once checked against exact search; else a ground truth an earlier run computed
//! on the same data (cached beside the results); else computed here by brute force in one
//! streaming pass over the points, and cached.
//!
//! A neighbours file is used only for the vector it belongs to: `neighbors-<vector>.parquet`, or a
//! plain `neighbors.parquet` when the dataset declares one vector. Before a run trusts it, a seeded
//! sample of its queries is searched exactly with the declared distance; a file that disagrees
//! (the wrong vector's, or computed with another distance) fails the run in `prepare`, unless the
//! experiment allows the mismatch, which the report then records.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use qbench_domain::metrics::{Returned, query_quality};
use qbench_domain::neighbors::{TopK, offer_batch, oriented_distance};
use qbench_domain::{Distance, PointId, VectorName};
use qbench_storage::{DatasetInspection, DatasetLayout, DatasetPart, NeighborsFile};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::fingerprint;
use crate::execution::plan::RunPlan;
use crate::execution::queries::{QuerySet, cancelled};
use crate::execution::{ExecutionDependencies, ExecutionError, Phase, ProgressSink};

/// Queries of a neighbours file searched exactly before the file is trusted.
pub(crate) const CHECKED_QUERIES: usize = 20;
/// The share of a neighbours file's top-`k` that exact search must confirm (ties counted): a file
/// that is right agrees fully but for float noise; the wrong vector's agrees on a few per cent, a
/// wrong distance's on a half to nine tenths.
pub(crate) const REQUIRED_AGREEMENT: f64 = 0.99;

/// Where a vector's ground truth came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TruthOrigin {
    /// The dataset's neighbours file (ids only: the tie rule does not apply).
    NeighborsFile,
    /// Computed by exact search over every uploaded point.
    Computed,
    /// Computed by an earlier run on the same data, vectors, `k` and queries.
    Cached,
}

impl TruthOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NeighborsFile => "neighbors_file",
            Self::Computed => "computed",
            Self::Cached => "cached",
        }
    }
}

/// How a neighbours file compared with exact search under the declared distance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TruthCheck {
    /// The distance searched with.
    pub(crate) distance: Distance,
    /// Queries searched exactly.
    pub(crate) queries: usize,
    /// Mean share of the file's top-`k` that exact search confirms (ties counted).
    pub(crate) agreement: f64,
    /// Whether the agreement reaches [`REQUIRED_AGREEMENT`].
    pub(crate) passed: bool,
}

/// Where one vector's ground truth came from, and how it was checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TruthSource {
    pub(crate) origin: TruthOrigin,
    /// The neighbours file used.
    pub(crate) file: Option<String>,
    /// The check of that file.
    pub(crate) check: Option<TruthCheck>,
}

/// For each vector, each query's true nearest neighbours (closest first, with oriented distances;
/// NaN when unknown), where they came from, and what the run should know about them.
#[derive(Debug, Clone)]
pub(crate) struct GroundTruth {
    pub(crate) neighbors: BTreeMap<VectorName, Vec<Vec<(PointId, f64)>>>,
    pub(crate) sources: BTreeMap<VectorName, TruthSource>,
    /// Warnings for the report (a file not used, a mismatch allowed).
    pub(crate) notes: Vec<String>,
}

impl GroundTruth {
    /// One word for every vector's origin: the origin they share, else `mixed`.
    pub(crate) fn origin(&self) -> &'static str {
        let mut origins = self.sources.values().map(|source| source.origin);
        match origins.next() {
            None => "none",
            Some(first) if origins.all(|origin| origin == first) => first.as_str(),
            Some(_) => "mixed",
        }
    }
}

/// A neighbours file found for a vector, as the run will score it.
struct Candidate {
    file: NeighborsFile,
    /// Each query's neighbour ids, in query order.
    lists: Vec<Vec<PointId>>,
}

/// The ground truth of every searched vector at depth `k`.
pub(crate) async fn load(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    inspection: &DatasetInspection,
    queries: &QuerySet,
    k: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<GroundTruth, ExecutionError> {
    let mut truth = GroundTruth { neighbors: BTreeMap::new(), sources: BTreeMap::new(), notes: Vec::new() };
    let sample = plan.experiment.spec.upload_config.sample;
    // A neighbours file lists neighbours among all the points: a sample's are computed on it.
    let candidates = match sample {
        None => neighbors_files(dependencies, plan, inspection, queries, k, &mut truth.notes).await?,
        Some(sample) => {
            truth.notes.push(format!(
                "measured on a seeded sample of {:.2} % of the train points (upload_config.sample, seed {}); \
                 the ground truth was computed on the sample: compare with runs on the same sample only",
                sample.fraction * 100.0,
                sample.seed
            ));
            BTreeMap::new()
        }
    };
    let checks = check(dependencies, plan, &candidates, queries, k, progress, cancel).await?;
    for (name, candidate) in candidates {
        let Some(check) = checks.get(&name).cloned() else { continue };
        let location = candidate.file.location.clone();
        if !check.passed {
            let message = format!(
                "{location} does not match exact search for vector `{name}` with distance {}: on {} sampled \
                 queries exact search confirms {:.1} % of its top {k} (ties counted; at least {:.0} % expected). \
                 Wrong vector or distance?",
                check.distance,
                check.queries,
                check.agreement * 100.0,
                REQUIRED_AGREEMENT * 100.0,
            );
            if !plan.experiment.spec.search_config.allow_ground_truth_mismatch {
                return Err(ExecutionError::failed(
                    Phase::Prepare,
                    format!(
                        "{message} Fix the file or the vector's distance, or set search_config.allow_ground_truth_mismatch to run anyway"
                    ),
                ));
            }
            truth.notes.push(format!("{message} Used anyway (allow_ground_truth_mismatch)."));
        }
        let lists = candidate.lists.into_iter().map(|ids| ids.into_iter().map(|id| (id, f64::NAN)).collect()).collect();
        truth.neighbors.insert(name.clone(), lists);
        let source = TruthSource { origin: TruthOrigin::NeighborsFile, file: Some(location), check: Some(check) };
        truth.sources.insert(name, source);
    }

    let mut missing = BTreeMap::new();
    let unscored: Vec<VectorName> =
        plan.search_vectors.iter().filter(|name| !truth.neighbors.contains_key(*name)).cloned().collect();
    for name in &unscored {
        let Some(spec) = plan.vector(name) else { continue };
        let key = fingerprint::truth_key(inspection, name, spec, k, queries, sample.as_ref());
        match dependencies.results.load_truth(&key).await {
            Ok(Some(cached)) if cached.len() == queries.len() => {
                truth.neighbors.insert(name.clone(), cached);
                truth
                    .sources
                    .insert(name.clone(), TruthSource { origin: TruthOrigin::Cached, file: None, check: None });
            }
            Ok(_) => {
                missing.insert(name.clone(), key);
            }
            Err(error) => {
                // The cache only saves time: a broken one costs a computation, never the run.
                tracing::warn!(vector = %name, %error, "cached ground truth not readable; computing it");
                missing.insert(name.clone(), key);
            }
        }
    }
    if missing.is_empty() {
        return Ok(truth);
    }
    let names: Vec<VectorName> = missing.keys().cloned().collect();
    let all: Vec<usize> = (0..queries.len()).collect();
    let computed = compute(dependencies, plan, &names, queries, &all, &BTreeMap::new(), k, progress, cancel).await?;
    for (name, computed) in computed {
        let lists: Vec<Vec<(PointId, f64)>> = computed.into_iter().map(|(top, _)| top).collect();
        if let Some(key) = missing.get(&name)
            && let Err(error) = dependencies.results.store_truth(key, &lists).await
        {
            tracing::warn!(vector = %name, %error, "computed ground truth not cached");
        }
        truth.neighbors.insert(name.clone(), lists);
        truth.sources.insert(name, TruthSource { origin: TruthOrigin::Computed, file: None, check: None });
    }
    Ok(truth)
}

/// The neighbours file each searched vector may be scored against: its own, or a plain
/// `neighbors.parquet` when the dataset declares that one vector only. A file not used is noted.
async fn neighbors_files(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    inspection: &DatasetInspection,
    queries: &QuerySet,
    k: usize,
    notes: &mut Vec<String>,
) -> Result<BTreeMap<VectorName, Candidate>, ExecutionError> {
    let mut found = BTreeMap::new();
    if inspection.layout != DatasetLayout::Directory {
        return Ok(found);
    }
    for name in &plan.search_vectors {
        let file = dependencies.reader.read_neighbors(&plan.source, name, k).await.in_phase(Phase::Prepare)?;
        let Some(file) = file else { continue };
        let declared = plan.declared_vectors.len();
        if file.vector.is_none() && !(declared == 1 && plan.declared_vectors.contains_key(name)) {
            notes.push(format!(
                "{} not used for vector `{name}`: the dataset declares {declared} vectors and the file does not say \
                 which one it belongs to (name it neighbors-{name}.parquet); the ground truth was computed instead",
                file.location
            ));
            continue;
        }
        let by_query: HashMap<PointId, &Vec<PointId>> = file.lists.iter().map(|(id, list)| (*id, list)).collect();
        let mut lists = Vec::with_capacity(queries.len());
        for id in &queries.ids {
            let list = by_query.get(id).ok_or_else(|| {
                ExecutionError::failed(Phase::Prepare, format!("{}: no row for query id {id}", file.location))
            })?;
            lists.push((*list).clone());
        }
        // A list shorter than `k` (with enough points to fill it) cannot score recall@k.
        let shortest = lists.iter().map(Vec::len).min().unwrap_or(0);
        let fillable = usize::try_from(inspection.train_rows).unwrap_or(usize::MAX).min(k);
        if shortest < fillable {
            notes.push(format!(
                "{} not used for vector `{name}`: it lists {shortest} neighbours for some query, fewer than k = {k}; \
                 the ground truth was computed instead",
                file.location
            ));
            continue;
        }
        found.insert(name.clone(), Candidate { file, lists });
    }
    Ok(found)
}

/// Searches a seeded sample of each candidate file's queries exactly and compares.
async fn check(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    candidates: &BTreeMap<VectorName, Candidate>,
    queries: &QuerySet,
    k: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<BTreeMap<VectorName, TruthCheck>, ExecutionError> {
    if candidates.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut rng = StdRng::seed_from_u64(dependencies.defaults.seed);
    let count = CHECKED_QUERIES.min(queries.len());
    let mut sample: Vec<usize> = rand::seq::index::sample(&mut rng, queries.len(), count).into_vec();
    sample.sort_unstable();
    let names: Vec<VectorName> = candidates.keys().cloned().collect();
    let wanted: BTreeMap<VectorName, Vec<HashSet<PointId>>> = candidates
        .iter()
        .map(|(name, candidate)| {
            let sets = sample
                .iter()
                .map(|query| candidate.lists.get(*query).map(|list| list.iter().copied().collect()).unwrap_or_default())
                .collect();
            (name.clone(), sets)
        })
        .collect();
    let exact = compute(dependencies, plan, &names, queries, &sample, &wanted, k, progress, cancel).await?;
    let mut checks = BTreeMap::new();
    for (name, measured) in exact {
        let (Some(candidate), Some(spec)) = (candidates.get(&name), plan.vector(&name)) else { continue };
        let agreements: Vec<f64> = sample
            .iter()
            .zip(&measured)
            .map(|(query, (top, distances))| {
                let listed = candidate.lists.get(*query).map_or(&[][..], Vec::as_slice);
                let returned: Vec<Returned<PointId>> =
                    listed.iter().map(|id| Returned { id: *id, distance: distances.get(id).copied() }).collect();
                query_quality(&returned, top, k.min(listed.len()).max(1)).recall
            })
            .collect();
        let agreement = agreements.iter().sum::<f64>() / agreements.len().max(1) as f64;
        let passed = agreement >= REQUIRED_AGREEMENT;
        checks.insert(name, TruthCheck { distance: spec.distance, queries: sample.len(), agreement, passed });
    }
    Ok(checks)
}

/// One query's exact top-`k` (ids with oriented distances) and the exact distance of each point
/// its neighbours file lists (for the tie rule; empty when computing without a file).
type Exact = (Vec<(PointId, f64)>, HashMap<PointId, f64>);

/// One vector's exact search in progress, for the queries searched.
#[derive(Default)]
struct Search {
    /// Each query's values, row after row.
    queries: Arc<Vec<f32>>,
    tops: Vec<TopK>,
    /// The points whose distance each query wants (those its neighbours file lists).
    wanted: Arc<Vec<HashSet<PointId>>>,
    found: Vec<HashMap<PointId, f64>>,
}

/// Exact top-`k` of the queries at `searched` (indexes into `queries`) for each of `vectors`, in
/// one pass over the points; with `wanted` (per vector, per searched query), also the exact
/// distance of each wanted point.
#[allow(clippy::too_many_arguments)]
async fn compute(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    vectors: &[VectorName],
    queries: &QuerySet,
    searched: &[usize],
    wanted: &BTreeMap<VectorName, Vec<HashSet<PointId>>>,
    k: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<BTreeMap<VectorName, Vec<Exact>>, ExecutionError> {
    let phase = Phase::Prepare;
    let mut searches: BTreeMap<VectorName, Search> = BTreeMap::new();
    for name in vectors {
        let Some(spec) = plan.vector(name) else { continue };
        let dim = spec.dim.get() as usize;
        let values: Vec<f32> =
            searched.iter().flat_map(|query| queries.vector(name, dim, *query).unwrap_or_default()).copied().collect();
        let wanted = wanted.get(name).cloned().unwrap_or_else(|| vec![HashSet::new(); searched.len()]);
        let search = Search {
            queries: Arc::new(values),
            tops: vec![TopK::new(k); searched.len()],
            wanted: Arc::new(wanted),
            found: vec![HashMap::new(); searched.len()],
        };
        searches.insert(name.clone(), search);
    }
    let mut stream = dependencies
        .reader
        .open_points(&plan.source, &plan.read_schema, DatasetPart::Train, dependencies.defaults.batch_size.max(4096))
        .await
        .in_phase(phase)?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    while let Some(batch) = stream.next_batch().await.in_phase(phase)? {
        cancelled(cancel)?;
        let sample = plan.experiment.spec.upload_config.sample;
        let keep: Vec<usize> = (0..batch.len())
            .filter(|row| !queries.held_out.contains(&(batch.first_row + *row as u64)))
            .filter(|row| sample.is_none_or(|sample| sample.keeps(&batch.ids[*row])))
            .collect();
        let ids: Arc<Vec<PointId>> = Arc::new(keep.iter().map(|row| batch.ids[*row]).collect());
        for (name, search) in &mut searches {
            let Some(spec) = plan.vector(name) else { continue };
            let dim = spec.dim.get() as usize;
            let distance = spec.distance;
            let Some(all) = batch.vectors.get(name) else { continue };
            let values: Vec<f32> =
                keep.iter().flat_map(|row| all[row * dim..(row + 1) * dim].iter().copied()).collect();
            let (query_values, wanted, ids) = (search.queries.clone(), search.wanted.clone(), ids.clone());
            let (mut tops, mut found) = (std::mem::take(&mut search.tops), std::mem::take(&mut search.found));
            // Exact search is CPU-bound: run it off the async workers, queries split over the cores.
            (search.tops, search.found) = tokio::task::spawn_blocking(move || {
                let chunk = tops.len().div_ceil(threads).max(1);
                std::thread::scope(|scope| {
                    for (index, (tops_chunk, found_chunk)) in
                        tops.chunks_mut(chunk).zip(found.chunks_mut(chunk)).enumerate()
                    {
                        let (query_values, wanted, ids, values) = (&query_values, &wanted, &ids, &values);
                        scope.spawn(move || {
                            let first = index * chunk;
                            let slices: Vec<&[f32]> = (first..first + tops_chunk.len())
                                .map(|query| &query_values[query * dim..(query + 1) * dim])
                                .collect();
                            offer_batch(distance, dim, ids, values, &slices, tops_chunk);
                            for (offset, found) in found_chunk.iter_mut().enumerate() {
                                let Some(wanted) = wanted.get(first + offset).filter(|set| !set.is_empty()) else {
                                    continue;
                                };
                                for (id, vector) in ids.iter().zip(values.chunks_exact(dim)) {
                                    if wanted.contains(id) {
                                        found.insert(*id, oriented_distance(distance, slices[offset], vector));
                                    }
                                }
                            }
                        });
                    }
                });
                (tops, found)
            })
            .await
            .map_err(|error| ExecutionError::failed(phase, format!("ground truth computation failed: {error}")))?;
        }
        progress.advance(batch.len() as u64);
    }
    Ok(searches
        .into_iter()
        .map(|(name, search)| {
            let exact = search.tops.into_iter().map(TopK::into_sorted).zip(search.found).collect();
            (name, exact)
        })
        .collect())
}
