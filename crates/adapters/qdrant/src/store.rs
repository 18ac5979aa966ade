//! [`RemoteQdrant`]: a Qdrant server behind the `VectorStore` port, over gRPC.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use qbench_domain::{Connection, VectorName, VectorSpec};
use qbench_vector_store::{
    CollectionInfo, CollectionSpec, CollectionStats, ConnectionCheck, EngineInfo, EngineMemory, Point, SearchRequest,
    SearchResponse, ShardLayout, SnapshotReader, SnapshotWriter, VectorStore, VectorStoreError,
};
use qdrant_client::qdrant::{self, DeleteCollection, GetCollectionInfoRequest};
use qdrant_client::{Qdrant, QdrantError};
use secrecy::{ExposeSecret, SecretString};

use crate::config::{IndexProgress, create_collection_request, enable_indexing_request, index_progress};
use crate::convert::{collection_info, collection_vectors, query_request, search_response, upsert_request};
use crate::error::{check_step, from_qdrant, redact};
use crate::rest::Rest;
use crate::url::{grpc_url, rest_url};
use crate::{ENGINE_NAME, check_collection_name, restore, snapshot};

/// Timeouts, the polling of [`RemoteQdrant::build_index`](VectorStore::build_index) and where a
/// restore spools its archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOptions {
    /// Longest wait for a connection to the server.
    pub connect_timeout: Duration,
    /// Longest wait for one request, a batch upsert waiting for persistence included.
    pub request_timeout: Duration,
    /// Longest wait for the index of a collection to be built.
    pub index_timeout: Duration,
    /// Pause between two `collection_info` polls while the index is built: the granularity of the
    /// measured index time.
    pub poll_interval: Duration,
    /// How long a green collection whose indexed count stays below the expected count must stay
    /// unchanged before the index is taken as finished (see [`RemoteQdrant`]).
    pub index_settle: Duration,
    /// Longest wait for the server to create a snapshot, or to receive and recover one.
    pub snapshot_timeout: Duration,
    /// Where a restore spools the archive before uploading it (it needs the archive's size on
    /// disk); the OS temp dir when `None`.
    pub spool_dir: Option<PathBuf>,
}

impl RemoteOptions {
    /// 5 s to connect.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// 120 s per request: a large upsert batch waits until the server has persisted it.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
    /// 2 h to build an index.
    pub const DEFAULT_INDEX_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
    /// 100 ms between polls.
    pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(100);
    /// 1 s of unchanged green.
    pub const DEFAULT_INDEX_SETTLE: Duration = Duration::from_secs(1);
    /// 2 h to create, or to upload and recover, a snapshot.
    pub const DEFAULT_SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);
}

impl Default for RemoteOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            index_timeout: Self::DEFAULT_INDEX_TIMEOUT,
            poll_interval: Self::DEFAULT_POLL_INTERVAL,
            index_settle: Self::DEFAULT_INDEX_SETTLE,
            snapshot_timeout: Self::DEFAULT_SNAPSHOT_TIMEOUT,
            spool_dir: None,
        }
    }
}

/// A Qdrant server reached over gRPC with `qdrant-client`, implementing [`VectorStore`], and over
/// its REST API for snapshots.
///
/// Every benchmark method that names a collection refuses (`Rejected`) a name without the
/// `qbench-` prefix before anything is sent: a run never touches a collection it did not create.
/// [`snapshot`](VectorStore::snapshot) and [`restore`](VectorStore::restore) take any name: they
/// are operations whose caller the service has already checked (only an admin may name a
/// collection that is not qbench's).
///
/// # Snapshots
/// Over REST, as gRPC does not carry archives (see the `snapshot` and `restore` modules):
/// `snapshot` has the server create a collection snapshot, streams its download in chunks of
/// [`SNAPSHOT_CHUNK_BYTES`](crate::SNAPSHOT_CHUNK_BYTES), checks it against the size and SHA-256
/// the server announced and deletes the server's copy; `restore` spools the archive to a
/// temporary file, uploads it streamed from there on `finish` for Qdrant to recover, and answers
/// the collection's exact point count. The archive is Qdrant's collection snapshot, which the
/// embedded engine (which reads shard snapshots) cannot restore, nor this one its archives.
///
/// # Building the index
/// [`create_collection`](VectorStore::create_collection) defers indexing (`indexing_threshold`
/// 0); [`build_index`](VectorStore::build_index) sets it to 1 KB and polls `collection_info` every
/// [`RemoteOptions::poll_interval`] (100 ms by default, the granularity of the measured index
/// time) until the collection is green and its indexed vectors cover every point of every vector
/// with a graph. Qdrant leaves a segment below the threshold unindexed (and scans it); a green
/// collection whose counts stay unchanged for [`RemoteOptions::index_settle`] is therefore taken as
/// finished too. After [`RemoteOptions::index_timeout`] the call fails with `Internal`, as it does
/// at once when an optimizer fails.
///
/// # Secrets
/// The API key is handed to the client builder and kept, as a secret, only to scrub it from error
/// messages; `Debug` shows whether a key is set, never the key.
pub struct RemoteQdrant {
    client: Qdrant,
    endpoint: String,
    /// The REST API of the same server (`scheme://host:port`), for snapshots.
    rest: String,
    api_key: Option<SecretString>,
    options: RemoteOptions,
}

impl fmt::Debug for RemoteQdrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteQdrant")
            .field("endpoint", &self.endpoint)
            .field("rest", &self.rest)
            .field("api_key", &self.api_key.as_ref().map(|_| "****"))
            .field("options", &self.options)
            .finish()
    }
}

impl RemoteQdrant {
    /// The store behind `connection` (its URL and decrypted API key). See [`RemoteQdrant::new`].
    ///
    /// # Errors
    /// As [`RemoteQdrant::new`].
    pub fn connect(connection: &Connection, options: RemoteOptions) -> Result<Self, VectorStoreError> {
        Self::new(&connection.spec.url, connection.spec.api_key.clone(), options)
    }

    /// A store for the Qdrant at `url` (see [`grpc_url`] and [`rest_url`] for the ports), sending
    /// `api_key` (as the `api-key` header) if given and not empty.
    ///
    /// Nothing is sent yet: gRPC connects on the first request, so an unreachable server shows
    /// as `Unreachable` from the first call, not here. The client's version check is off (it
    /// would block and print to stdout); [`VectorStore::engine`] reports the server's version.
    ///
    /// # Errors
    /// `Rejected` when the URL is not one of a remote Qdrant, or the API key has characters other
    /// than visible ASCII, which a request header cannot carry.
    pub fn new(url: &str, api_key: Option<SecretString>, options: RemoteOptions) -> Result<Self, VectorStoreError> {
        let endpoint = grpc_url(url)?;
        let rest = rest_url(url)?;
        // An empty key is no key: the server would see an empty `api-key` header and refuse it.
        let api_key = api_key.filter(|key| !key.expose_secret().is_empty());
        // The client would refuse such a key on every request, with the key in its message.
        if let Some(key) = &api_key
            && !key.expose_secret().bytes().all(|byte| byte == b'\t' || (b' '..=b'~').contains(&byte))
        {
            return Err(VectorStoreError::Rejected(
                "the API key has characters a request header cannot carry (only visible ASCII is allowed)".to_owned(),
            ));
        }
        install_crypto_provider();
        let mut builder = Qdrant::from_url(&endpoint)
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .keep_alive_while_idle()
            .skip_compatibility_check();
        if let Some(key) = &api_key {
            builder = builder.api_key(key.expose_secret());
        }
        let client = builder.build().map_err(|err| from_qdrant(&err, None))?;
        Ok(Self { client, endpoint, rest, api_key, options })
    }

    /// The same store with its REST API at `url` instead of where the connection URL implies
    /// (a proxy that serves it elsewhere; a test's stand-in). See [`rest_url`] for the port.
    ///
    /// # Errors
    /// Those of [`rest_url`].
    pub fn with_rest_url(mut self, url: &str) -> Result<Self, VectorStoreError> {
        self.rest = rest_url(url)?;
        Ok(self)
    }

    /// The gRPC endpoint requests go to (`scheme://host:port`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The REST API snapshots go through (`scheme://host:port`).
    pub fn rest_endpoint(&self) -> &str {
        &self.rest
    }

    /// The options this store was built with.
    pub fn options(&self) -> &RemoteOptions {
        &self.options
    }

    /// A client error for the port, with the API key scrubbed from its message.
    /// Tests this connection: one health check, timed, a failure sorted into its step (the API
    /// key never appears in the reason).
    pub async fn check(&self, tls: bool) -> ConnectionCheck {
        let started = std::time::Instant::now();
        match self.client.health_check().await {
            Ok(health) => ConnectionCheck::passed(
                EngineInfo { engine: ENGINE_NAME.to_owned(), version: health.version },
                started.elapsed(),
                tls,
            ),
            Err(err) => {
                let (step, why) = check_step(&err);
                let why = match &self.api_key {
                    Some(key) if !key.expose_secret().is_empty() => why.replace(key.expose_secret(), "****"),
                    Some(_) | None => why,
                };
                ConnectionCheck::failed_at(step, why, tls)
            }
        }
    }

    fn fail(&self, err: &QdrantError, collection: Option<&str>) -> VectorStoreError {
        let err = from_qdrant(err, collection);
        match &self.api_key {
            Some(key) => redact(err, key),
            None => err,
        }
    }

    async fn info(&self, collection: &str) -> Result<qdrant::CollectionInfo, VectorStoreError> {
        let request = GetCollectionInfoRequest { collection_name: collection.to_owned() };
        let response = self.client.collection_info(request).await.map_err(|err| self.fail(&err, Some(collection)))?;
        response.result.ok_or_else(|| {
            VectorStoreError::Internal(format!("the server answered no information about collection `{collection}`"))
        })
    }

    /// A REST client for this server (built per operation: snapshots are rare, and a client
    /// loads the system's root certificates).
    fn rest(&self) -> Result<Rest, VectorStoreError> {
        Rest::new(&self.rest, self.api_key.as_ref(), self.options.connect_timeout, self.options.request_timeout)
    }
}

/// The shard layout of `collection` through `rest`, if there is one; a failure other than a
/// missing endpoint or collection (404, already `Ok(None)`) drops `rest`, so the other
/// collections are listed without asking again.
async fn shard_layout(rest: &mut Option<Rest>, collection: &str) -> Option<ShardLayout> {
    let client = rest.as_ref()?;
    match client.shard_layout(collection).await {
        Ok(layout) => layout,
        Err(err) => {
            tracing::debug!(%err, collection, "shard layout not read: not asked for the other collections");
            *rest = None;
            None
        }
    }
}

/// Makes rustls' aws-lc-rs provider the process default, once.
///
/// `qdrant-client` builds tonic with rustls' `ring` feature, so two providers are compiled in;
/// tonic uses the process default when one is installed and falls back to ring otherwise. Installing
/// aws-lc-rs (the provider of the rest of the application, see `qbench_object_storage`) keeps one
/// provider in use whatever the start-up order. An error means a provider is installed already.
fn install_crypto_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[async_trait]
impl VectorStore for RemoteQdrant {
    /// `qdrant` and the version the server's health check reports.
    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint))]
    async fn engine(&self) -> Result<EngineInfo, VectorStoreError> {
        let health = self.client.health_check().await.map_err(|err| self.fail(&err, None))?;
        Ok(EngineInfo { engine: ENGINE_NAME.to_owned(), version: health.version })
    }

    /// Every collection by name; the figures and shard layout of qbench's own (`qbench-`) only:
    /// no other collection is read.
    ///
    /// The shard layout comes from the REST API (`/collections/{name}/cluster`): a collection
    /// whose layout cannot be read has none, and once the REST API fails otherwise than with a
    /// 404 (unreachable, the key refused) it is not asked again for the other collections, so a
    /// missing REST port costs one timeout, not one per collection.
    async fn collections(&self) -> Result<Vec<CollectionStats>, VectorStoreError> {
        let listed = self.client.list_collections().await.map_err(|err| self.fail(&err, None))?;
        let mut names: Vec<String> = listed.collections.into_iter().map(|collection| collection.name).collect();
        names.sort();
        let mut rest = self
            .rest()
            .inspect_err(|err| tracing::debug!(%err, "no REST client: collections listed without their shards"))
            .ok();
        let mut collections = Vec::with_capacity(names.len());
        for name in names {
            let (info, shards) = if check_collection_name(&name).is_ok() {
                let info = self.collection_info(&name).await.ok();
                (info, shard_layout(&mut rest, &name).await)
            } else {
                (None, None)
            };
            collections.push(CollectionStats { name, info, disk_bytes: None, shards });
        }
        Ok(collections)
    }

    /// The telemetry's `memory` over REST (see [`EngineMemory`] for when Qdrant reports it).
    #[tracing::instrument(skip_all, fields(endpoint = %self.rest))]
    async fn memory(&self) -> Result<Option<EngineMemory>, VectorStoreError> {
        self.rest()?.memory().await
    }

    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %spec.name))]
    async fn create_collection(&self, spec: &CollectionSpec) -> Result<(), VectorStoreError> {
        let request = create_collection_request(spec)?;
        let response = self.client.create_collection(request).await.map_err(|err| self.fail(&err, Some(&spec.name)))?;
        if !response.result {
            return Err(VectorStoreError::Internal(format!(
                "the server did not confirm the creation of collection `{}`",
                spec.name
            )));
        }
        tracing::debug!(vectors = spec.vectors.len(), "collection created");
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %collection, points = points.len()))]
    async fn upsert(&self, collection: &str, points: &[Point]) -> Result<(), VectorStoreError> {
        check_collection_name(collection)?;
        if points.is_empty() {
            return Ok(());
        }
        self.client
            .upsert_points(upsert_request(collection, points))
            .await
            .map_err(|err| self.fail(&err, Some(collection)))?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %collection))]
    async fn build_index(&self, collection: &str) -> Result<(), VectorStoreError> {
        check_collection_name(collection)?;
        let started = Instant::now();
        self.client
            .update_collection(enable_indexing_request(collection))
            .await
            .map_err(|err| self.fail(&err, Some(collection)))?;

        let mut last: Option<IndexProgress> = None;
        let mut unchanged_since = Instant::now();
        loop {
            let progress = index_progress(&self.info(collection).await?)?;
            if progress.is_complete() {
                tracing::info!(
                    indexed = progress.indexed,
                    points = progress.points,
                    elapsed = ?started.elapsed(),
                    "index built"
                );
                return Ok(());
            }
            if last != Some(progress) {
                tracing::debug!(
                    green = progress.green,
                    indexed = progress.indexed,
                    expected = progress.expected,
                    "indexing"
                );
                last = Some(progress);
                unchanged_since = Instant::now();
            } else if progress.green && unchanged_since.elapsed() >= self.options.index_settle {
                tracing::info!(
                    indexed = progress.indexed,
                    expected = progress.expected,
                    elapsed = ?started.elapsed(),
                    "index built; segments below the indexing threshold stay unindexed"
                );
                return Ok(());
            }
            if started.elapsed() >= self.options.index_timeout {
                return Err(VectorStoreError::Internal(format!(
                    "the index of collection `{collection}` was not built within {:?}: {} of {} vectors indexed, \
                     collection {}",
                    self.options.index_timeout,
                    progress.indexed,
                    progress.expected,
                    if progress.green { "green" } else { "still optimizing" }
                )));
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %collection, k = request.k))]
    async fn search(&self, collection: &str, request: SearchRequest<'_>) -> Result<SearchResponse, VectorStoreError> {
        check_collection_name(collection)?;
        let response = self
            .client
            .query(query_request(collection, request))
            .await
            .map_err(|err| self.fail(&err, Some(collection)))?;
        search_response(&response)
    }

    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %collection))]
    /// Any collection: reading changes nothing, and a snapshot an admin takes of a collection
    /// that is not qbench's records its figures.
    async fn collection_info(&self, collection: &str) -> Result<CollectionInfo, VectorStoreError> {
        Ok(collection_info(&self.info(collection).await?))
    }

    /// The dense vectors the server reports in the collection's configuration (gRPC
    /// `CollectionInfo`). Any collection, as for [`collection_info`](VectorStore::collection_info).
    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %collection))]
    async fn collection_vectors(
        &self,
        collection: &str,
    ) -> Result<Option<BTreeMap<VectorName, VectorSpec>>, VectorStoreError> {
        collection_vectors(&self.info(collection).await?).map(Some)
    }

    /// A collection snapshot created on the server and downloaded in chunks; the server's copy
    /// is deleted once read, on failure, or when the reader is dropped. Any collection name:
    /// the service decides who may name one that is not qbench's.
    ///
    /// The server takes the snapshot at once: the archive is the collection at that moment, and
    /// neither searches nor writes wait for the download.
    #[tracing::instrument(skip_all, fields(endpoint = %self.rest, collection = %collection))]
    async fn snapshot(&self, collection: &str) -> Result<Box<dyn SnapshotReader>, VectorStoreError> {
        snapshot::start(self.rest()?, collection, self.options.snapshot_timeout).await
    }

    /// A restore spooled to a temporary file and uploaded on `finish`. Any collection name, as
    /// for [`snapshot`](VectorStore::snapshot). Without `overwrite`, an existing collection is
    /// refused now, before anything is written, and again before the upload.
    #[tracing::instrument(skip_all, fields(endpoint = %self.rest, collection = %collection, overwrite = overwrite))]
    async fn restore(&self, collection: &str, overwrite: bool) -> Result<Box<dyn SnapshotWriter>, VectorStoreError> {
        restore::start(
            self.rest()?,
            collection,
            overwrite,
            self.options.spool_dir.clone(),
            self.options.snapshot_timeout,
        )
        .await
    }

    /// Deletes the collection; a collection that is already gone is fine.
    #[tracing::instrument(skip_all, fields(endpoint = %self.endpoint, collection = %collection))]
    async fn drop_collection(&self, collection: &str) -> Result<(), VectorStoreError> {
        check_collection_name(collection)?;
        let request = DeleteCollection { collection_name: collection.to_owned(), ..Default::default() };
        match self.client.delete_collection(request).await.map_err(|err| self.fail(&err, Some(collection))) {
            // `result` is false when there was nothing to delete, which is what the caller wants.
            Ok(_) | Err(VectorStoreError::CollectionNotFound(_)) => Ok(()),
            Err(err) => Err(err),
        }
    }
}
