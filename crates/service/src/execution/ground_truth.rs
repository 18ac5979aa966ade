//! The exact neighbours every query is scored against: the dataset's neighbors file, else a
//! ground truth an earlier run computed on the same data (cached beside the results), else
//! computed here by brute force in one streaming pass over the points, and cached.

use std::collections::{BTreeMap, HashMap};

use qbench_domain::neighbors::{TopK, offer_batch};
use qbench_domain::{PointId, VectorName};
use qbench_storage::{DatasetInspection, DatasetPart, FileRole};
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::fingerprint;
use crate::execution::plan::RunPlan;
use crate::execution::queries::{QuerySet, cancelled};
use crate::execution::{ExecutionDependencies, ExecutionError, Phase, ProgressSink};

/// Where the ground truth came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TruthOrigin {
    /// The dataset's `neighbors.parquet` (ids only: the tie rule does not apply).
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

/// For each vector, each query's true nearest neighbours (closest first, with oriented distances;
/// NaN when unknown).
#[derive(Debug, Clone)]
pub(crate) struct GroundTruth {
    pub(crate) neighbors: BTreeMap<VectorName, Vec<Vec<(PointId, f64)>>>,
    pub(crate) origin: TruthOrigin,
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
    // A neighbors file answers for the dataset's one vector; with several, compute.
    if plan.search_vectors.len() == 1 && plan.read_schema.vectors.len() == 1 {
        let file = dependencies.reader.read_neighbors(&plan.source, k).await.in_phase(Phase::Prepare)?;
        if let Some(lists) = file {
            let by_query: HashMap<PointId, Vec<PointId>> = lists.into_iter().collect();
            let mut truth = Vec::with_capacity(queries.len());
            for id in &queries.ids {
                let neighbors = by_query.get(id).ok_or_else(|| {
                    let file = inspection.files.iter().find(|file| file.role == FileRole::Neighbors);
                    let file = file.map_or("neighbors.parquet", |file| file.location.as_str());
                    ExecutionError::failed(Phase::Prepare, format!("{file}: no row for query id {id}"))
                })?;
                truth.push(neighbors.iter().map(|id| (*id, f64::NAN)).collect());
            }
            let vector = plan.search_vectors[0].clone();
            return Ok(GroundTruth {
                neighbors: BTreeMap::from([(vector, truth)]),
                origin: TruthOrigin::NeighborsFile,
            });
        }
    }
    let mut neighbors = BTreeMap::new();
    let mut missing = BTreeMap::new();
    for name in &plan.search_vectors {
        let Some(spec) = plan.vector(name) else { continue };
        let key = fingerprint::truth_key(inspection, name, spec, k, queries);
        match dependencies.results.load_truth(&key).await {
            Ok(Some(cached)) if cached.len() == queries.len() => {
                neighbors.insert(name.clone(), cached);
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
        return Ok(GroundTruth { neighbors, origin: TruthOrigin::Cached });
    }
    let names: Vec<VectorName> = missing.keys().cloned().collect();
    for (name, truth) in compute(dependencies, plan, &names, queries, k, progress, cancel).await? {
        if let Some(key) = missing.get(&name)
            && let Err(error) = dependencies.results.store_truth(key, &truth).await
        {
            tracing::warn!(vector = %name, %error, "computed ground truth not cached");
        }
        neighbors.insert(name, truth);
    }
    Ok(GroundTruth { neighbors, origin: TruthOrigin::Computed })
}

/// Exact top-`k` of every query for each of `vectors`, in one pass over the points.
async fn compute(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    vectors: &[VectorName],
    queries: &QuerySet,
    k: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<BTreeMap<VectorName, Vec<Vec<(PointId, f64)>>>, ExecutionError> {
    let phase = Phase::Prepare;
    let mut tops: BTreeMap<VectorName, Vec<TopK>> =
        vectors.iter().map(|name| (name.clone(), vec![TopK::new(k); queries.len()])).collect();
    let mut stream = dependencies
        .reader
        .open_points(&plan.source, &plan.read_schema, DatasetPart::Train, dependencies.defaults.batch_size.max(4096))
        .await
        .in_phase(phase)?;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    while let Some(batch) = stream.next_batch().await.in_phase(phase)? {
        cancelled(cancel)?;
        let keep: Vec<usize> =
            (0..batch.len()).filter(|row| !queries.held_out.contains(&(batch.first_row + *row as u64))).collect();
        let ids: Vec<PointId> = keep.iter().map(|row| batch.ids[*row]).collect();
        for (name, vector_tops) in &mut tops {
            let Some(spec) = plan.vector(name) else { continue };
            let dim = spec.dim.get() as usize;
            let distance = spec.distance;
            let Some(all) = batch.vectors.get(name) else { continue };
            let values: Vec<f32> =
                keep.iter().flat_map(|row| all[row * dim..(row + 1) * dim].iter().copied()).collect();
            let query_values = queries.vectors.get(name).cloned().unwrap_or_default();
            let taken = std::mem::take(vector_tops);
            let ids = ids.clone();
            // Exact search is CPU-bound: run it off the async workers, queries split over the cores.
            *vector_tops = tokio::task::spawn_blocking(move || {
                let mut taken = taken;
                let chunk = taken.len().div_ceil(threads).max(1);
                std::thread::scope(|scope| {
                    for (index, tops_chunk) in taken.chunks_mut(chunk).enumerate() {
                        let query_values = &query_values;
                        let (ids, values) = (&ids, &values);
                        scope.spawn(move || {
                            let first = index * chunk;
                            let slices: Vec<&[f32]> = (first..first + tops_chunk.len())
                                .map(|query| &query_values[query * dim..(query + 1) * dim])
                                .collect();
                            offer_batch(distance, dim, ids, values, &slices, tops_chunk);
                        });
                    }
                });
                taken
            })
            .await
            .map_err(|error| ExecutionError::failed(phase, format!("ground truth computation failed: {error}")))?;
        }
        progress.advance(batch.len() as u64);
    }
    Ok(tops.into_iter().map(|(name, tops)| (name, tops.into_iter().map(TopK::into_sorted).collect())).collect())
}
