//! The exact neighbours every query is scored against: the dataset's neighbors file, or computed
//! here by brute force in one streaming pass over the points.

use std::collections::{BTreeMap, HashMap};

use qbench_domain::neighbors::{TopK, offer_batch};
use qbench_domain::{PointId, VectorName};
use qbench_storage::DatasetPart;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
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
}

impl TruthOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::NeighborsFile => "neighbors_file",
            Self::Computed => "computed",
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
                    ExecutionError::failed(Phase::Prepare, format!("neighbors.parquet has no row for query id {id}"))
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
    compute(dependencies, plan, queries, k, progress, cancel).await
}

async fn compute(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    queries: &QuerySet,
    k: usize,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<GroundTruth, ExecutionError> {
    let phase = Phase::Prepare;
    let mut tops: BTreeMap<VectorName, Vec<TopK>> =
        plan.search_vectors.iter().map(|name| (name.clone(), vec![TopK::new(k); queries.len()])).collect();
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
    let neighbors =
        tops.into_iter().map(|(name, tops)| (name, tops.into_iter().map(TopK::into_sorted).collect())).collect();
    Ok(GroundTruth { neighbors, origin: TruthOrigin::Computed })
}
