//! The test queries: the dataset's test file, or a seeded sample of rows held out of the upload.

use std::collections::{BTreeMap, HashSet};

use qbench_domain::{PointId, VectorName};
use qbench_storage::{DatasetInspection, DatasetLayout, DatasetPart, PointBatch};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio_util::sync::CancellationToken;

use crate::execution::error::InPhase;
use crate::execution::plan::RunPlan;
use crate::execution::{ExecutionDependencies, ExecutionError, Phase};

/// Where the queries came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryOrigin {
    /// The dataset's `test.parquet`.
    TestFile,
    /// Rows of the dataset held out of the upload.
    HeldOut,
}

impl QueryOrigin {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::TestFile => "test_file",
            Self::HeldOut => "held_out_rows",
        }
    }
}

/// The queries of a run.
#[derive(Debug, Clone)]
pub(crate) struct QuerySet {
    /// Query ids, in order.
    pub(crate) ids: Vec<PointId>,
    /// Each vector's query values, row after row.
    pub(crate) vectors: BTreeMap<VectorName, Vec<f32>>,
    /// Rows (by index in the train part) that are queries and so are not uploaded.
    pub(crate) held_out: HashSet<u64>,
    /// Where they came from.
    pub(crate) origin: QueryOrigin,
}

impl QuerySet {
    /// Number of queries.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Query `index` of vector `name`.
    pub(crate) fn vector(&self, name: &VectorName, dim: usize, index: usize) -> Option<&[f32]> {
        self.vectors.get(name).and_then(|values| values.get(index * dim..(index + 1) * dim))
    }

    fn take_rows(&mut self, batch: &PointBatch, rows: impl Iterator<Item = usize>) {
        for row in rows {
            self.ids.push(batch.ids[row]);
            for (name, values) in &batch.vectors {
                let dim = values.len() / batch.len().max(1);
                self.vectors.entry(name.clone()).or_default().extend_from_slice(&values[row * dim..(row + 1) * dim]);
            }
        }
    }
}

/// Loads the queries: at most `limit` (the experiment's `queries_limit`, else the default).
pub(crate) async fn load(
    dependencies: &ExecutionDependencies,
    plan: &RunPlan,
    inspection: &DatasetInspection,
    cancel: &CancellationToken,
) -> Result<QuerySet, ExecutionError> {
    let phase = Phase::Prepare;
    let limit =
        plan.experiment.spec.search_config.queries_limit.map_or(dependencies.defaults.queries, |limit| limit as usize);
    let batch_rows = dependencies.defaults.batch_size.max(1024);
    let mut queries =
        QuerySet { ids: Vec::new(), vectors: BTreeMap::new(), held_out: HashSet::new(), origin: QueryOrigin::TestFile };

    if inspection.layout == DatasetLayout::Directory && inspection.test_rows > 0 {
        let mut stream = dependencies
            .reader
            .open_points(&plan.source, &plan.read_schema, DatasetPart::Test, batch_rows)
            .await
            .in_phase(phase)?;
        while queries.len() < limit {
            cancelled(cancel)?;
            let Some(batch) = stream.next_batch().await.in_phase(phase)? else { break };
            let wanted = (limit - queries.len()).min(batch.len());
            queries.take_rows(&batch, 0..wanted);
        }
        return Ok(queries);
    }

    // Hold out a seeded sample of rows: at most a tenth of the dataset, so most points remain.
    let rows = inspection.train_rows;
    let count = limit.min(usize::try_from(rows / 10).unwrap_or(usize::MAX)).max(1);
    if rows < 2 {
        return Err(ExecutionError::failed(
            phase,
            format!("the dataset has {rows} row(s): too few to hold out queries"),
        ));
    }
    let mut rng = StdRng::seed_from_u64(dependencies.defaults.seed);
    let mut sample: Vec<u64> = rand::seq::index::sample(&mut rng, usize::try_from(rows).unwrap_or(usize::MAX), count)
        .into_iter()
        .map(|row| row as u64)
        .collect();
    sample.sort_unstable();
    queries.held_out = sample.iter().copied().collect();
    queries.origin = QueryOrigin::HeldOut;
    let mut stream = dependencies
        .reader
        .open_points(&plan.source, &plan.read_schema, DatasetPart::Train, batch_rows)
        .await
        .in_phase(phase)?;
    while queries.len() < count {
        cancelled(cancel)?;
        let Some(batch) = stream.next_batch().await.in_phase(phase)? else { break };
        let first = batch.first_row;
        let rows = (0..batch.len()).filter(|row| queries.held_out.contains(&(first + *row as u64)));
        let rows: Vec<usize> = rows.collect();
        queries.take_rows(&batch, rows.into_iter());
    }
    Ok(queries)
}

/// `Cancelled` once the token is.
pub(crate) fn cancelled(cancel: &CancellationToken) -> Result<(), ExecutionError> {
    if cancel.is_cancelled() { Err(ExecutionError::Cancelled) } else { Ok(()) }
}
