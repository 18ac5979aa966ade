//! In-memory datasets and a result writer that keeps what it is given, for service tests.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use qbench_domain::synthetic::SyntheticSpec;
use qbench_domain::{SchemaConfig, VectorName};
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::{
    Artifact, ColumnInfo, DatasetFile, DatasetInspection, DatasetLayout, DatasetPart, DatasetReader, DatasetSource,
    FileRole, NeighborLists, NeighborsFile, PointBatch, PointStream, QueryRecord, ResultWriter, StorageError,
    StoredResult, TrueNeighbors,
};

/// A dataset held in memory: its points, and (for the directory layout) queries and neighbours.
#[derive(Debug, Clone)]
pub struct MemoryDataset {
    /// Layout reported by `inspect`.
    pub layout: DatasetLayout,
    /// The points.
    pub train: PointBatch,
    /// The queries (directory layout).
    pub test: Option<PointBatch>,
    /// The ground truth (directory layout): `neighbors.parquet` (`None` key) or per vector.
    pub neighbors: BTreeMap<Option<VectorName>, NeighborLists>,
    /// How the points are split into train files, each given by the rows of its row groups
    /// (`train-00.parquet`, `train-01.parquet`, … under the URI); empty for one file of one row
    /// group at the URI itself.
    pub shards: Vec<Vec<u64>>,
}

impl MemoryDataset {
    /// A single-file dataset of synthetic clustered points.
    pub fn synthetic(spec: &SyntheticSpec) -> Self {
        let dataset = synthetic_dataset(spec, 1);
        Self {
            layout: DatasetLayout::SingleFile,
            train: dataset.train,
            test: None,
            neighbors: BTreeMap::new(),
            shards: Vec::new(),
        }
    }

    /// A directory dataset: synthetic points, queries, and their `k` exact neighbours, named as
    /// the writer names them (`neighbors.parquet` for one vector, else one file per vector).
    pub fn synthetic_directory(spec: &SyntheticSpec, k: usize) -> Self {
        let dataset = synthetic_dataset(spec, k);
        let single = dataset.schema.vectors.len() == 1;
        let neighbors = dataset.neighbors.into_iter().map(|(name, lists)| ((!single).then_some(name), lists)).collect();
        Self {
            layout: DatasetLayout::Directory,
            train: dataset.train,
            test: Some(dataset.test),
            neighbors,
            shards: Vec::new(),
        }
    }

    /// The same points split into train files of the given row groups (see [`Self::shards`]);
    /// the rows given must add up to the points'.
    pub fn sharded(self, shards: Vec<Vec<u64>>) -> Self {
        Self { shards, ..self }
    }

    /// Its train files: location, the rows of each row group, and the rows before the file.
    fn files(&self, uri: &str) -> Vec<(String, Vec<u64>, u64)> {
        if self.shards.is_empty() {
            return vec![(uri.to_owned(), vec![self.train.ids.len() as u64], 0)];
        }
        let mut first_row = 0;
        self.shards
            .iter()
            .enumerate()
            .map(|(index, groups)| {
                let file = (format!("{uri}train-{index:02}.parquet"), groups.clone(), first_row);
                first_row += groups.iter().sum::<u64>();
                file
            })
            .collect()
    }
}

/// A range read by `open_row_groups`: the file's location and the row groups.
pub type RangeRead = (String, Range<usize>);

/// Serves [`MemoryDataset`]s by source URI; an unknown URI is `NotFound`.
#[derive(Debug, Clone, Default)]
pub struct InMemoryDatasetReader {
    datasets: Arc<Mutex<BTreeMap<String, MemoryDataset>>>,
    failing_reads: Arc<AtomicU32>,
    range_reads: Arc<Mutex<Vec<RangeRead>>>,
}

impl InMemoryDatasetReader {
    /// A reader with no datasets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `dataset` at `uri`.
    pub fn insert(&self, uri: &str, dataset: MemoryDataset) {
        self.datasets.lock().unwrap_or_else(PoisonError::into_inner).insert(uri.to_owned(), dataset);
    }

    /// Makes the next `reads` calls of `open_row_groups` fail as `Unreachable` (a transient error).
    pub fn fail_next_reads(&self, reads: u32) {
        self.failing_reads.store(reads, Ordering::SeqCst);
    }

    /// Every range `open_row_groups` was asked for, in order: (location, row groups).
    pub fn range_reads(&self) -> Vec<RangeRead> {
        self.range_reads.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn get(&self, source: &DatasetSource) -> Result<MemoryDataset, StorageError> {
        self.datasets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(source.uri.as_str())
            .cloned()
            .ok_or_else(|| StorageError::NotFound { location: source.uri.to_string() })
    }
}

struct BatchStream {
    batch: PointBatch,
    next_row: usize,
    batch_rows: usize,
    /// The number of the batch's first row in its part.
    first_row: u64,
}

#[async_trait]
impl PointStream for BatchStream {
    async fn next_batch(&mut self) -> Result<Option<PointBatch>, StorageError> {
        let rows = self.batch.ids.len();
        if self.next_row >= rows {
            return Ok(None);
        }
        let end = (self.next_row + self.batch_rows.max(1)).min(rows);
        let mut slice = slice(&self.batch, self.next_row..end);
        slice.first_row = self.first_row + self.next_row as u64;
        self.next_row = end;
        Ok(Some(slice))
    }
}

#[async_trait]
impl DatasetReader for InMemoryDatasetReader {
    async fn inspect(&self, source: &DatasetSource, schema: &SchemaConfig) -> Result<DatasetInspection, StorageError> {
        let dataset = self.get(source)?;
        for name in schema.vectors.keys() {
            if !dataset.train.vectors.contains_key(name) {
                return Err(StorageError::Format {
                    file: source.uri.to_string(),
                    column: Some(name.to_string()),
                    row_group: None,
                    reason: "no such column".to_owned(),
                });
            }
        }
        let train_rows = dataset.train.ids.len() as u64;
        let test_rows = dataset.test.as_ref().map_or(0, |test| test.ids.len() as u64);
        let files = dataset
            .files(source.uri.as_str())
            .into_iter()
            .map(|(location, groups, first_row)| {
                let rows = groups.iter().sum::<u64>();
                let content = slice(&dataset.train, first_row as usize..(first_row + rows) as usize);
                DatasetFile {
                    location,
                    role: FileRole::Train,
                    bytes: rows * 4,
                    rows,
                    row_groups: groups.len(),
                    row_group_rows: groups,
                    version: Some(content_version(&content)),
                }
            })
            .collect();
        Ok(DatasetInspection {
            layout: dataset.layout,
            files,
            columns: schema
                .vectors
                .keys()
                .map(|name| ColumnInfo {
                    name: name.to_string(),
                    data_type: "List(Float32)".to_owned(),
                    nullable: false,
                })
                .collect(),
            train_rows,
            test_rows,
            bytes: train_rows * 4,
        })
    }

    async fn open_points(
        &self,
        source: &DatasetSource,
        _schema: &SchemaConfig,
        part: DatasetPart,
        batch_rows: usize,
    ) -> Result<Box<dyn PointStream>, StorageError> {
        let dataset = self.get(source)?;
        let batch = match part {
            DatasetPart::Train => dataset.train,
            DatasetPart::Test => dataset
                .test
                .ok_or_else(|| StorageError::NotFound { location: format!("{}test.parquet", source.uri) })?,
        };
        Ok(Box::new(BatchStream { batch, next_row: 0, batch_rows, first_row: 0 }))
    }

    /// The rows of the range, from the train points; ids are the points' own.
    async fn open_row_groups(
        &self,
        source: &DatasetSource,
        _schema: &SchemaConfig,
        location: &str,
        row_groups: Range<usize>,
        first_row: u64,
        batch_rows: usize,
    ) -> Result<Box<dyn PointStream>, StorageError> {
        self.range_reads.lock().unwrap_or_else(PoisonError::into_inner).push((location.to_owned(), row_groups.clone()));
        let failing = self.failing_reads.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1));
        if failing.is_ok() {
            return Err(StorageError::Unreachable { location: location.to_owned(), reason: "switched off".to_owned() });
        }
        let dataset = self.get(source)?;
        let files = dataset.files(source.uri.as_str());
        let (_, groups, file_row) = files
            .into_iter()
            .find(|(file, _, _)| file == location)
            .ok_or_else(|| StorageError::NotFound { location: location.to_owned() })?;
        if row_groups.is_empty() || row_groups.end > groups.len() {
            return Err(StorageError::Format {
                file: location.to_owned(),
                column: None,
                row_group: None,
                reason: format!("row groups {row_groups:?} are not within the file's {} row groups", groups.len()),
            });
        }
        let start = file_row + groups[..row_groups.start].iter().sum::<u64>();
        let rows = groups[row_groups].iter().sum::<u64>();
        let batch = slice(&dataset.train, start as usize..(start + rows) as usize);
        Ok(Box::new(BatchStream { batch, next_row: 0, batch_rows, first_row }))
    }

    async fn read_neighbors(
        &self,
        source: &DatasetSource,
        vector: &VectorName,
        k: usize,
    ) -> Result<Option<NeighborsFile>, StorageError> {
        let mut neighbors = self.get(source)?.neighbors;
        let named = neighbors.remove(&Some(vector.clone()));
        let (vector, lists) = match named {
            Some(lists) => (Some(vector.clone()), lists),
            None => match neighbors.remove(&None) {
                Some(lists) => (None, lists),
                None => return Ok(None),
            },
        };
        let location = match &vector {
            Some(name) => format!("{}neighbors-{name}.parquet", source.uri),
            None => format!("{}neighbors.parquet", source.uri),
        };
        let lists: NeighborLists = lists
            .into_iter()
            .map(|(id, mut neighbors)| {
                neighbors.truncate(k);
                (id, neighbors)
            })
            .collect();
        Ok(Some(NeighborsFile { location, vector, lists }))
    }
}

/// Rows `range` of `batch`.
fn slice(batch: &PointBatch, range: Range<usize>) -> PointBatch {
    let rows = batch.ids.len().max(1);
    let range = range.start.min(batch.ids.len())..range.end.min(batch.ids.len());
    PointBatch {
        first_row: range.start as u64,
        ids: batch.ids[range.clone()].to_vec(),
        vectors: batch
            .vectors
            .iter()
            .map(|(name, values)| {
                let dim = values.len() / rows;
                (name.clone(), values[range.start * dim..range.end * dim].to_vec())
            })
            .collect(),
        payloads: batch.payloads.get(range).map(<[_]>::to_vec).unwrap_or_default(),
    }
}

/// A hash of the points, standing in for an object store's ETag: it changes when the data does.
fn content_version(train: &PointBatch) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    train.ids.hash(&mut hasher);
    for (name, values) in &train.vectors {
        name.hash(&mut hasher);
        values.iter().for_each(|value| value.to_bits().hash(&mut hasher));
    }
    format!("{:016x}", hasher.finish())
}

/// A result as written: run id, result document, query rows.
pub type WrittenResult = (String, serde_json::Value, Vec<QueryRecord>);

/// An artifact's folder and file name.
type ArtifactKey = (String, String);

/// Keeps every result and ground truth it is given.
#[derive(Debug, Clone, Default)]
pub struct RecordingResultWriter {
    written: Arc<Mutex<Vec<WrittenResult>>>,
    truths: Arc<Mutex<BTreeMap<String, TrueNeighbors>>>,
    truth_hits: Arc<Mutex<u64>>,
    logs: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
    artifacts: Arc<Mutex<BTreeMap<ArtifactKey, Vec<u8>>>>,
}

impl RecordingResultWriter {
    /// What was written: (run id, result, query rows).
    pub fn written(&self) -> Vec<WrittenResult> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The log lines written for run `run_id`.
    pub fn log(&self, run_id: &str) -> Option<Vec<String>> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).get(run_id).cloned()
    }

    /// The bytes of `artifact` written in `folder` by `write_artifact` (a report), if any.
    pub fn artifact(&self, folder: &str, artifact: Artifact) -> Option<Vec<u8>> {
        let key = (folder.to_owned(), artifact.file_name().to_owned());
        self.artifacts.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned()
    }

    /// The keys of the stored ground truths.
    pub fn truth_keys(&self) -> Vec<String> {
        self.truths.lock().unwrap_or_else(PoisonError::into_inner).keys().cloned().collect()
    }

    /// How many loads found a stored ground truth.
    pub fn truth_hits(&self) -> u64 {
        *self.truth_hits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the ground truth stored under `key` (to prove a run reads it back).
    pub fn replace_truth(&self, key: &str, truth: TrueNeighbors) {
        self.truths.lock().unwrap_or_else(PoisonError::into_inner).insert(key.to_owned(), truth);
    }
}

#[async_trait]
impl ResultWriter for RecordingResultWriter {
    async fn write_result(
        &self,
        run_id: &str,
        result: &serde_json::Value,
        queries: &[QueryRecord],
    ) -> Result<StoredResult, StorageError> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner).push((
            run_id.to_owned(),
            result.clone(),
            queries.to_vec(),
        ));
        Ok(StoredResult {
            result_json: format!("memory://{run_id}/result.json"),
            queries_parquet: format!("memory://{run_id}/queries.parquet"),
        })
    }

    async fn load_truth(&self, key: &str) -> Result<Option<TrueNeighbors>, StorageError> {
        let found = self.truths.lock().unwrap_or_else(PoisonError::into_inner).get(key).cloned();
        if found.is_some() {
            *self.truth_hits.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        }
        Ok(found)
    }

    async fn store_truth(&self, key: &str, truth: &TrueNeighbors) -> Result<(), StorageError> {
        self.truths.lock().unwrap_or_else(PoisonError::into_inner).insert(key.to_owned(), truth.clone());
        Ok(())
    }

    async fn write_log(&self, run_id: &str, lines: &[String]) -> Result<String, StorageError> {
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).insert(run_id.to_owned(), lines.to_vec());
        Ok(format!("memory://{run_id}/log.jsonl"))
    }

    async fn write_artifact(&self, folder: &str, artifact: Artifact, body: Vec<u8>) -> Result<String, StorageError> {
        let key = (folder.to_owned(), artifact.file_name().to_owned());
        self.artifacts.lock().unwrap_or_else(PoisonError::into_inner).insert(key, body);
        Ok(format!("memory://{folder}/{}", artifact.file_name()))
    }

    /// Forgets the result, log and artifacts of run `run_id`.
    async fn delete_results(&self, run_id: &str) -> Result<(), StorageError> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner).retain(|(id, _, _)| id != run_id);
        self.logs.lock().unwrap_or_else(PoisonError::into_inner).remove(run_id);
        self.artifacts.lock().unwrap_or_else(PoisonError::into_inner).retain(|(folder, _), _| folder != run_id);
        Ok(())
    }

    /// The result and log as written; the query rows are recorded, not encoded, so they read as
    /// absent.
    async fn read_artifact(&self, run_id: &str, artifact: Artifact) -> Result<Vec<u8>, StorageError> {
        if artifact == Artifact::Log
            && let Some(lines) = self.log(run_id)
        {
            return Ok(lines.join("\n").into_bytes());
        }
        if let Some(body) = self.artifact(run_id, artifact) {
            return Ok(body);
        }
        let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        let found = written.iter().rev().find(|(id, _, _)| id == run_id);
        match (artifact, found) {
            (Artifact::ResultJson, Some((_, result, _))) => {
                serde_json::to_vec(result).map_err(|error| StorageError::Internal(error.to_string()))
            }
            _ => Err(StorageError::NotFound { location: format!("memory://{run_id}/{}", artifact.file_name()) }),
        }
    }

    /// Memory signs nothing: the server signs its own URLs.
    async fn presigned_url(
        &self,
        _run_id: &str,
        _artifact: Artifact,
        _expires_in: std::time::Duration,
    ) -> Result<Option<String>, StorageError> {
        Ok(None)
    }
}
