//! Writing datasets and results.

use async_trait::async_trait;
use std::collections::BTreeMap;

use qbench_domain::{PointId, SchemaConfig, VectorName};

use crate::{DatasetSource, NeighborLists, PointBatch, StorageError};

/// A dataset held in memory, to be written in the directory layout.
#[derive(Debug, Clone)]
pub struct GeneratedDataset {
    /// The vectors and scalar fields.
    pub schema: SchemaConfig,
    /// The points (`train.parquet`).
    pub train: PointBatch,
    /// The queries (`test.parquet`).
    pub test: PointBatch,
    /// The exact neighbours of each query, per vector: `neighbors.parquet` for a dataset of one
    /// vector, else `neighbors-<vector>.parquet` for each.
    pub neighbors: BTreeMap<VectorName, NeighborLists>,
}

/// Writes datasets.
#[async_trait]
pub trait DatasetWriter: Send + Sync {
    /// Writes `dataset` under `target` as `train.parquet`, `test.parquet` and its neighbours
    /// files.
    async fn write_dataset(&self, target: &DatasetSource, dataset: &GeneratedDataset) -> Result<(), StorageError>;
}

/// Where a run's results were stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResult {
    /// Location of `result.json`.
    pub result_json: String,
    /// Location of the per-query rows (Parquet).
    pub queries_parquet: String,
}

/// One query of one search setting, as measured: a row of the per-query results.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRecord {
    /// The named vector searched.
    pub vector: String,
    /// The search setting (e.g. `hnsw_ef=128` or `exact`).
    pub setting: String,
    /// The query's id.
    pub query_id: String,
    /// Client-side latency in seconds.
    pub latency_seconds: f64,
    /// The engine's own time in seconds, when reported.
    pub server_seconds: Option<f64>,
    /// Precision of this query.
    pub precision: f64,
    /// Recall of this query.
    pub recall: f64,
    /// F1 of this query.
    pub f1: f64,
    /// Ids returned, best first.
    pub returned_ids: Vec<String>,
    /// The ground truth's ids (the true nearest neighbours), nearest first.
    pub true_ids: Vec<String>,
}

/// A file a completed run stores beside its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Artifact {
    /// `result.json`: the run's report.
    ResultJson,
    /// `queries.parquet`: one row per query and setting.
    QueriesParquet,
    /// `log.jsonl`: the run's own log, one JSON object per line (phases, warnings, the outcome).
    Log,
    /// `report.html`: the rendered report, one self-contained page (a run's, or a report job's).
    Report,
}

impl Artifact {
    /// Every artifact.
    pub const ALL: [Self; 4] = [Self::ResultJson, Self::QueriesParquet, Self::Log, Self::Report];

    /// Its file name in the run's folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::ResultJson => "result.json",
            Self::QueriesParquet => "queries.parquet",
            Self::Log => "log.jsonl",
            Self::Report => "report.html",
        }
    }

    /// The artifact called `name`, if any.
    pub fn from_file_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|artifact| artifact.file_name() == name)
    }

    /// Its media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::ResultJson => "application/json",
            Self::QueriesParquet => "application/vnd.apache.parquet",
            Self::Log => "application/x-ndjson",
            Self::Report => "text/html; charset=utf-8",
        }
    }
}

/// An artifact being read, piece by piece.
#[async_trait]
pub trait ArtifactChunks: Send {
    /// Its size in bytes.
    fn size(&self) -> u64;

    /// The next piece, `None` at the end.
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StorageError>;
}

/// An artifact read whole, as one piece.
struct WholeArtifact(Option<Vec<u8>>);

#[async_trait]
impl ArtifactChunks for WholeArtifact {
    fn size(&self) -> u64 {
        self.0.as_ref().map_or(0, |bytes| bytes.len() as u64)
    }

    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self.0.take())
    }
}

/// Each query's true nearest neighbours (id and oriented distance, NaN when unknown), nearest first.
pub type TrueNeighbors = Vec<Vec<(PointId, f64)>>;

/// Stores run results, and the ground truth runs compute so that later runs on the same data reuse
/// it.
#[async_trait]
pub trait ResultWriter: Send + Sync {
    /// Writes `result` as `result.json` and `queries` as `queries.parquet`, in a folder named after
    /// `run_id`.
    async fn write_result(
        &self,
        run_id: &str,
        result: &serde_json::Value,
        queries: &[QueryRecord],
    ) -> Result<StoredResult, StorageError>;

    /// The ground truth stored under `key` by [`store_truth`](Self::store_truth), if any.
    async fn load_truth(&self, key: &str) -> Result<Option<TrueNeighbors>, StorageError>;

    /// Stores `truth` under `key` (a name made of letters, digits and `-`), replacing any.
    async fn store_truth(&self, key: &str, truth: &TrueNeighbors) -> Result<(), StorageError>;

    /// Writes run `run_id`'s log (`lines`, each one JSON object) as its `log.jsonl`, replacing
    /// any; answers its location.
    async fn write_log(&self, run_id: &str, lines: &[String]) -> Result<String, StorageError> {
        let mut body = lines.join("\n");
        body.push('\n');
        self.write_artifact(run_id, Artifact::Log, body.into_bytes()).await
    }

    /// Writes `body` as `artifact` in the folder `folder` (a run's id, or a report job's), replacing
    /// any; answers its location.
    ///
    /// Errors: `Refused` for a folder that is not a plain name or when no results location is
    /// configured; store errors.
    async fn write_artifact(&self, folder: &str, artifact: Artifact, body: Vec<u8>) -> Result<String, StorageError>;

    /// Deletes every artifact in run `run_id`'s folder (its result, per-query rows, log, report and
    /// anything else stored there), and the folder itself where the store has folders. `Ok` when
    /// there is none: deleting twice is not an error.
    ///
    /// Errors: `Refused` for a run id that is not a plain folder name or when no results location
    /// is configured; store errors.
    async fn delete_results(&self, run_id: &str) -> Result<(), StorageError>;

    /// The bytes of `artifact` of run `run_id`.
    ///
    /// Errors: `NotFound` when the run stored none; `Refused` for a run id that is not a plain
    /// folder name or when no results location is configured; store errors.
    async fn read_artifact(&self, run_id: &str, artifact: Artifact) -> Result<Vec<u8>, StorageError>;

    /// `artifact` of `folder` (a run's id, or a report job's), read piece by piece: what serves a
    /// file of any size in bounded memory. By default one piece, [`read_artifact`](Self::read_artifact)'s.
    ///
    /// Errors: those of `read_artifact`.
    async fn open_artifact(&self, folder: &str, artifact: Artifact) -> Result<Box<dyn ArtifactChunks>, StorageError> {
        let bytes = self.read_artifact(folder, artifact).await?;
        Ok(Box::new(WholeArtifact(Some(bytes))))
    }

    /// A URL that lets anyone holding it GET `artifact` of run `run_id` for `expires_in`, signed
    /// by the store itself (an S3 presigned URL); `None` when the store cannot sign (a local
    /// directory: the server then signs URLs to itself).
    async fn presigned_url(
        &self,
        run_id: &str,
        artifact: Artifact,
        expires_in: std::time::Duration,
    ) -> Result<Option<String>, StorageError>;
}
