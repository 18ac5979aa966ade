//! Uploading the points (or a seeded sample of them), indexing deferred, with a bounded number of
//! upserts in flight.

use std::sync::Arc;
use std::time::Instant;

use qbench_domain::PointSample;
use qbench_storage::{DatasetPart, PointBatch};
use qbench_vector_store::{Point, VectorStore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::plan::RunPlan;
use crate::execution::queries::{QuerySet, cancelled};
use crate::execution::{ExecutionDependencies, ExecutionError, Phase, ProgressSink};

/// What the upload measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct UploadStats {
    /// Points uploaded.
    pub(crate) points: u64,
    /// From opening the dataset to the last upsert acknowledged, in seconds.
    pub(crate) seconds: f64,
    /// Points per upsert.
    pub(crate) batch_size: usize,
    /// Upserts in flight at once.
    pub(crate) parallel: usize,
}

/// Streams the train part (minus held-out queries) into the collection.
pub(crate) async fn upload(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    store: &Arc<dyn VectorStore>,
    queries: &QuerySet,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<UploadStats, ExecutionError> {
    let phase = Phase::Upload;
    let started = Instant::now();
    let chosen = &plan.experiment.spec.upload_config;
    let batch_size = chosen.batch_size.map_or(dependencies.defaults.batch_size, |size| size as usize).max(1);
    let parallelism = chosen.parallel.map_or(dependencies.defaults.upload_parallelism, |n| n as usize).max(1);
    let mut stream = dependencies
        .reader
        .open_points(&plan.source, &plan.read_schema, DatasetPart::Train, batch_size)
        .await
        .in_phase(phase)?;
    let mut in_flight: JoinSet<Result<u64, ExecutionError>> = JoinSet::new();
    let mut points = 0;
    while let Some(batch) = stream.next_batch().await.in_phase(phase)? {
        cancelled(cancel)?;
        let batch_points = to_points(&batch, queries, plan.experiment.spec.upload_config.sample);
        for chunk in batch_points.chunks(batch_size) {
            while in_flight.len() >= parallelism {
                points += joined(in_flight.join_next().await)?;
            }
            let (store, collection, chunk) = (store.clone(), plan.collection.name.clone(), chunk.to_vec());
            let progress = progress.clone();
            in_flight.spawn(async move {
                let count = chunk.len() as u64;
                store.upsert(&collection, &chunk).await.in_phase(phase)?;
                progress.advance(count);
                Ok(count)
            });
        }
    }
    while let Some(done) = in_flight.join_next().await {
        points += joined(Some(done))?;
    }
    Ok(UploadStats { points, seconds: started.elapsed().as_secs_f64(), batch_size, parallel: parallelism })
}

fn joined(done: Option<Result<Result<u64, ExecutionError>, tokio::task::JoinError>>) -> Result<u64, ExecutionError> {
    match done {
        None => Ok(0),
        Some(Ok(result)) => result,
        Some(Err(error)) => Err(ExecutionError::failed(Phase::Upload, format!("an upsert task failed: {error}"))),
    }
}

/// The batch's rows as points, without the rows held out as queries or left out of the sample.
fn to_points(batch: &PointBatch, queries: &QuerySet, sample: Option<PointSample>) -> Vec<Point> {
    let rows = batch.len();
    (0..rows)
        .filter(|row| !queries.held_out.contains(&(batch.first_row + *row as u64)))
        .filter(|row| sample.is_none_or(|sample| sample.keeps(&batch.ids[*row])))
        .map(|row| point_at(batch, row))
        .collect()
}

/// Row `row` of `batch` as a point: its id, each named vector, its payload.
pub(crate) fn point_at(batch: &PointBatch, row: usize) -> Point {
    let rows = batch.len();
    Point {
        id: batch.ids[row],
        vectors: batch
            .vectors
            .iter()
            .map(|(name, values)| {
                let dim = values.len() / rows;
                (name.clone(), values[row * dim..(row + 1) * dim].to_vec())
            })
            .collect(),
        payload: batch.payloads.get(row).cloned().unwrap_or_default(),
    }
}
