//! [`ParquetStorage`]: the port's traits, each a thin sequence of the modules' steps.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use object_store::signer::Signer;
use qbench_domain::{SchemaConfig, VectorName};
use qbench_storage::{
    ArchiveSink, ArchiveStore, Artifact, ArtifactChunks, DatasetInspection, DatasetLayout, DatasetPart, DatasetReader,
    DatasetSource, DatasetWriter, GeneratedDataset, NeighborsFile, PointStream, QueryRecord, ResultWriter,
    StorageError, StoredResult, TrueNeighbors,
};

use crate::archive;
use crate::config::ParquetStorageConfig;
use crate::error;
use crate::http_source::HttpSourceClient;
use crate::inspect;
use crate::layout::{self, TEST_FILE};
use crate::location::{self, Location, redact};
use crate::neighbors;
use crate::results;
use crate::roots::DataRoots;
use crate::stores;
use crate::stream::ParquetPointStream;
use crate::tls;
use crate::truth;
use crate::write;

/// Reads and writes Parquet datasets and run results on S3, HTTP(S) and local data roots.
///
/// Cheap to share: wrap it in an `Arc` and hand it out as `Arc<dyn DatasetReader>`,
/// `Arc<dyn DatasetWriter>`, `Arc<dyn ResultWriter>` and `Arc<dyn ArchiveStore>`. Clients are
/// built per call from the source's credentials, so one instance serves every registered storage.
pub struct ParquetStorage {
    /// Where local datasets may be.
    roots: DataRoots,
    /// Where results go, when configured.
    results: Option<Location>,
    /// Signs GET URLs to the results, when they are on S3 with credentials.
    results_signer: Option<Arc<dyn Signer>>,
    /// How HTTP(S) sources are reached: the egress policy and timeouts.
    http: HttpSourceClient,
}

impl fmt::Debug for ParquetStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParquetStorage")
            .field("roots", &self.roots)
            .field("results", &self.results)
            .field("http", &self.http)
            .finish()
    }
}

impl ParquetStorage {
    /// The adapter for `config`; installs the TLS crypto provider (see
    /// [`install_crypto_provider`](crate::install_crypto_provider)).
    ///
    /// # Errors
    /// `Refused` when the results location is not a valid `s3://bucket/prefix` or its S3
    /// configuration is invalid (for instance only one of the two keys).
    pub fn new(config: ParquetStorageConfig) -> Result<Self, StorageError> {
        tls::install_crypto_provider();
        let results = config.results.as_ref().map(results::location).transpose()?;
        let results_signer = config.results.as_ref().map(results::signer).transpose()?.flatten();
        let http = HttpSourceClient {
            policy: Arc::new(config.egress),
            connect_timeout: stores::CONNECT_TIMEOUT,
            idle_timeout: config.http_idle_timeout,
            request_timeout: stores::REQUEST_TIMEOUT,
            https_only: false,
        };
        Ok(Self {
            roots: DataRoots::new(config.data_roots).excluding(config.private_paths),
            results,
            results_signer,
            http,
        })
    }
}

#[async_trait]
impl DatasetReader for ParquetStorage {
    #[tracing::instrument(skip_all, fields(uri = %redact(source.uri.as_str())))]
    async fn inspect(&self, source: &DatasetSource, schema: &SchemaConfig) -> Result<DatasetInspection, StorageError> {
        let location = location::for_reading(source, &self.roots, &self.http).await?;
        let files = layout::detect(&location).await?;
        let inspection = inspect::inspect(&location.store, &files, schema).await?;
        tracing::debug!(layout = ?inspection.layout, files = inspection.files.len(), train_rows = inspection.train_rows, "inspected");
        Ok(inspection)
    }

    #[tracing::instrument(skip_all, fields(uri = %redact(source.uri.as_str()), part = ?part, batch_rows = batch_rows))]
    async fn open_points(
        &self,
        source: &DatasetSource,
        schema: &SchemaConfig,
        part: DatasetPart,
        batch_rows: usize,
    ) -> Result<Box<dyn PointStream>, StorageError> {
        let location = location::for_reading(source, &self.roots, &self.http).await?;
        let files = layout::detect(&location).await?;
        let (files, with_scalars) = match part {
            DatasetPart::Train => (files.train, true),
            DatasetPart::Test => match (files.layout, files.test) {
                (DatasetLayout::Directory, Some(test)) => (vec![test], false),
                (DatasetLayout::Directory, None) => {
                    return Err(StorageError::NotFound { location: format!("{}/{TEST_FILE}", files.base_uri) });
                }
                (DatasetLayout::SingleFile | DatasetLayout::Glob, _) => {
                    return Err(error::format(
                        &files.base_uri,
                        None,
                        None,
                        "only a directory dataset has a test part (test.parquet); hold queries out of the train rows",
                    ));
                }
            },
        };
        let stream = ParquetPointStream::new(location.store, files, schema.clone(), with_scalars, batch_rows);
        Ok(Box::new(stream))
    }

    #[tracing::instrument(skip_all, fields(uri = %redact(source.uri.as_str()), location = %redact(location), row_groups = ?row_groups))]
    async fn open_row_groups(
        &self,
        source: &DatasetSource,
        schema: &SchemaConfig,
        location: &str,
        row_groups: Range<usize>,
        first_row: u64,
        batch_rows: usize,
    ) -> Result<Box<dyn PointStream>, StorageError> {
        let dataset = location::for_reading(source, &self.roots, &self.http).await?;
        let files = layout::detect(&dataset).await?;
        // Found among the dataset's train files as listed now: a file removed since it was
        // planned is not found, and no other location can be named.
        let file = files
            .train
            .into_iter()
            .find(|file| file.uri == location)
            .ok_or_else(|| StorageError::NotFound { location: location.to_owned() })?;
        let stream =
            ParquetPointStream::row_groups(dataset.store, file, row_groups, schema.clone(), first_row, batch_rows);
        Ok(Box::new(stream))
    }

    #[tracing::instrument(skip_all, fields(uri = %redact(source.uri.as_str()), vector = %vector, k = k))]
    async fn read_neighbors(
        &self,
        source: &DatasetSource,
        vector: &VectorName,
        k: usize,
    ) -> Result<Option<NeighborsFile>, StorageError> {
        let location = location::for_reading(source, &self.roots, &self.http).await?;
        let files = layout::detect(&location).await?;
        let Some((file, named)) = files.neighbors_of(vector) else { return Ok(None) };
        let lists = neighbors::read(&location.store, file, k).await?;
        Ok(Some(NeighborsFile { location: file.uri.clone(), vector: named.then(|| vector.clone()), lists }))
    }
}

#[async_trait]
impl DatasetWriter for ParquetStorage {
    #[tracing::instrument(skip_all, fields(uri = %redact(target.uri.as_str()), train = dataset.train.len(), test = dataset.test.len()))]
    async fn write_dataset(&self, target: &DatasetSource, dataset: &GeneratedDataset) -> Result<(), StorageError> {
        let location = location::for_writing(target, &self.roots).await?;
        write::dataset(&location, dataset).await
    }
}

#[async_trait]
impl ResultWriter for ParquetStorage {
    #[tracing::instrument(skip_all, fields(run_id = %run_id, queries = queries.len()))]
    async fn write_result(
        &self,
        run_id: &str,
        result: &serde_json::Value,
        queries: &[QueryRecord],
    ) -> Result<StoredResult, StorageError> {
        results::write(self.results_location(run_id)?, run_id, result, queries).await
    }

    #[tracing::instrument(skip_all, fields(key = %key))]
    async fn load_truth(&self, key: &str) -> Result<Option<TrueNeighbors>, StorageError> {
        truth::load(self.results_location(key)?, key).await
    }

    #[tracing::instrument(skip_all, fields(key = %key, queries = truth.len()))]
    async fn store_truth(&self, key: &str, truth: &TrueNeighbors) -> Result<(), StorageError> {
        truth::store(self.results_location(key)?, key, truth).await
    }

    #[tracing::instrument(skip(self, body), fields(bytes = body.len()))]
    async fn write_artifact(&self, folder: &str, artifact: Artifact, body: Vec<u8>) -> Result<String, StorageError> {
        results::write_artifact(self.results_location(folder)?, folder, artifact, body).await
    }

    #[tracing::instrument(skip(self))]
    async fn delete_results(&self, run_id: &str) -> Result<(), StorageError> {
        results::delete(self.results_location(run_id)?, run_id).await
    }

    #[tracing::instrument(skip(self))]
    async fn read_artifact(&self, run_id: &str, artifact: Artifact) -> Result<Vec<u8>, StorageError> {
        results::read(self.results_location(run_id)?, run_id, artifact).await
    }

    #[tracing::instrument(skip(self))]
    async fn open_artifact(&self, folder: &str, artifact: Artifact) -> Result<Box<dyn ArtifactChunks>, StorageError> {
        results::open(self.results_location(folder)?, folder, artifact).await
    }

    #[tracing::instrument(skip(self))]
    async fn presigned_url(
        &self,
        run_id: &str,
        artifact: Artifact,
        expires_in: std::time::Duration,
    ) -> Result<Option<String>, StorageError> {
        let Some(signer) = &self.results_signer else { return Ok(None) };
        results::presign(self.results_location(run_id)?, signer.as_ref(), run_id, artifact, expires_in).await.map(Some)
    }
}

#[async_trait]
impl ArchiveStore for ParquetStorage {
    #[tracing::instrument(skip_all, fields(uri = %redact(repository.uri.as_str())))]
    async fn check_repository(&self, repository: &DatasetSource) -> Result<(), StorageError> {
        archive::check(repository, &self.roots).await
    }

    #[tracing::instrument(skip_all, fields(uri = %redact(repository.uri.as_str()), name = %name))]
    async fn create_archive(
        &self,
        repository: &DatasetSource,
        name: &str,
    ) -> Result<Box<dyn ArchiveSink>, StorageError> {
        archive::create(repository, &self.roots, name).await
    }

    #[tracing::instrument(skip_all, fields(uri = %redact(repository.uri.as_str()), name = %name))]
    async fn open_archive(
        &self,
        repository: &DatasetSource,
        name: &str,
    ) -> Result<Box<dyn ArtifactChunks>, StorageError> {
        archive::open(repository, &self.roots, name).await
    }

    #[tracing::instrument(skip_all, fields(uri = %redact(repository.uri.as_str()), name = %name))]
    async fn delete_archive(&self, repository: &DatasetSource, name: &str) -> Result<(), StorageError> {
        archive::delete(repository, &self.roots, name).await
    }
}

impl ParquetStorage {
    /// The results location, or `Refused` naming `what` was to be written when none is configured.
    fn results_location(&self, what: &str) -> Result<&Location, StorageError> {
        self.results.as_ref().ok_or_else(|| StorageError::Refused {
            location: what.to_owned(),
            reason: "no results location is configured".to_owned(),
        })
    }
}
