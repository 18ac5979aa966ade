//! The remote adapter: the `VectorStore` port on a Qdrant server, over gRPC with `qdrant-client`,
//! and over Qdrant's REST API with reqwest for what gRPC lacks (health, snapshot archives).
//!
//! [`RemoteQdrant`] implements `VectorStore` for one server; [`RemoteProvider`] implements
//! `VectorStoreProvider` for `http(s)://` connections and keeps one client per connection.
//! [`RemoteOptions`] holds the timeouts and the polling of `build_index`. Nothing of
//! `qdrant-client` crosses the port: the translation lives in plain functions, public so that what
//! is sent can be checked without a server:
//! - [`grpc_url`]: a connection URL as the gRPC endpoint (`:6333`, Qdrant's REST port, becomes
//!   `:6334`; any other port is kept);
//! - [`create_collection_request`], [`enable_indexing_request`], [`index_progress`]: a
//!   `CollectionSpec` as `CreateCollection` with indexing deferred, the switch that turns it on, and
//!   when the index is finished;
//! - [`upsert_request`], [`query_request`], [`search_response`], [`collection_info`],
//!   [`collection_vectors`], [`config_json`]: points, searches and collection information;
//! - [`from_qdrant`], [`from_status`]: client errors as `VectorStoreError`;
//! - [`health`], [`rest_url`]: liveness, readiness and peers from the REST API.
//!
//! Over REST too: a `qbench-` collection's shard placement and transfers in flight
//! (`/collections/{name}/cluster`, in `VectorStore::collections`) and the server's memory
//! (`/telemetry`'s `memory`, `VectorStore::memory`: reported by Qdrant only when it runs jemalloc,
//! its official Linux builds, and to a key that may see the whole server). A server that lacks
//! an endpoint (404) answers without that part; the call itself still succeeds.
//!
//! `VectorStore::snapshot` and `restore` go through the REST API (the `snapshot` and `restore`
//! modules): a collection snapshot created on the server, downloaded in chunks of
//! [`SNAPSHOT_CHUNK_BYTES`] and deleted from the server afterwards; a restore spooled to a
//! temporary file and uploaded, streamed from it, for Qdrant to recover. See [`RemoteQdrant`].
//!
//! # Only `qbench-` collections, unless an admin names another
//! qbench names a run's collection `qbench-<run id>`, and nothing this adapter does of its own
//! initiative touches another: the benchmark calls (create, upsert, index, search, drop) pass the
//! name through [`check_collection_name`], which refuses any other name (`Rejected`) before a
//! request is sent, so a mistaken name cannot drop or fill a user's collection, and
//! [`VectorStore::collections`](qbench_vector_store::VectorStore::collections) reads only qbench's.
//! Snapshot, restore and the information a snapshot records are operations on a collection the
//! caller names: they take any name, as the service lets only admins name a collection that is not
//! qbench's (and reading changes nothing).
//!
//! # Measuring the index it claims
//! As the embedded adapter does, the collection is created with indexing off (`indexing_threshold`
//! 0) so uploads are measured apart from indexing, and a vector's `full_scan_threshold` defaults to
//! the lowest Qdrant accepts, so a small collection is searched through its graph rather than
//! scanned (see [`create_collection_request`]). `build_index` switches indexing on and polls until
//! the collection is green and indexed (see [`RemoteQdrant`]).
//!
//! # TLS and crypto providers
//! `qdrant-client` 1.20 depends on tonic with its `tls-ring` and `tls-native-roots` features, not
//! optional (so does `qdrant-edge`), so rustls' `ring` provider is compiled in next to aws-lc-rs,
//! the one the rest of the application uses. tonic uses the process's default provider when one is
//! installed and falls back to ring otherwise; [`RemoteQdrant::new`] installs aws-lc-rs as the
//! default (as `qbench_object_storage::install_crypto_provider` does), so aws-lc-rs is the only
//! provider in use. The crate is built without `qdrant-client`'s default features, whose snapshot
//! download (another reqwest set-up) writes an archive to a local file instead of handing it on;
//! the REST calls use the workspace's reqwest, on aws-lc-rs too. An `https` URL uses TLS with the
//! system's root certificates.
//!
//! # Secrets
//! A connection's API key goes to the client builders (gRPC, and reqwest as a sensitive default
//! header) and nowhere else: it is not logged (entry points are instrumented with `skip_all`), not
//! in `Debug` output, and scrubbed from error messages ([`redact`]). A URL carrying credentials is
//! refused.
#![deny(missing_docs)]

mod config;
mod convert;
mod error;
mod provider;
mod rest;
mod restore;
mod snapshot;
mod store;
mod url;

use qbench_vector_store::VectorStoreError;

pub use crate::url::{GRPC_PORT, REST_PORT, grpc_url, rest_url};
pub use config::{
    INDEXING_OFF_KB, INDEXING_ON_KB, IndexProgress, create_collection_request, enable_indexing_request, index_progress,
};
pub use convert::{
    collection_info, collection_vectors, config_json, from_point_id, point_id, query_request, search_params,
    search_response, upsert_request,
};
pub use error::{check_step, from_qdrant, from_status, redact};
pub use provider::RemoteProvider;
pub use rest::health;
pub use store::{RemoteOptions, RemoteQdrant};

/// The engine's name in a run's provenance.
pub const ENGINE_NAME: &str = "qdrant";

/// The largest chunk a snapshot's reader hands on (1 MiB), as the embedded engine's.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// The prefix of every collection qbench creates (`qbench-<run id>`).
pub const COLLECTION_PREFIX: &str = "qbench-";

/// Accepts only collection names qbench creates: [`COLLECTION_PREFIX`] followed by something.
///
/// # Errors
/// `Rejected` for any other name.
pub fn check_collection_name(name: &str) -> Result<(), VectorStoreError> {
    match name.strip_prefix(COLLECTION_PREFIX) {
        Some(rest) if !rest.is_empty() => Ok(()),
        Some(_) | None => Err(VectorStoreError::Rejected(format!(
            "collection `{name}` was not created by qbench (its name does not start with `{COLLECTION_PREFIX}`); \
             qbench only touches its own collections"
        ))),
    }
}
