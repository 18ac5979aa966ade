//! The object-storage adapter: Parquet datasets and run results on S3-compatible stores, plain HTTP(S)
//! servers and local data roots, over `object_store` and `parquet`.
//!
//! [`ParquetStorage`] implements the storage port's [`DatasetReader`](qbench_storage::DatasetReader),
//! [`DatasetWriter`](qbench_storage::DatasetWriter), [`ResultWriter`](qbench_storage::ResultWriter) and
//! [`ArchiveStore`](qbench_storage::ArchiveStore).
//! It is built from a [`ParquetStorageConfig`]: the local directories datasets may be read from
//! (`data_roots`) and where results go ([`ResultsLocation`]).
//!
//! How a source URI is read:
//! - **Where**: `s3://bucket/key` with the source's credentials (path-style requests against a
//!   custom endpoint such as MinIO or SeaweedFS), `https://…`/`http://…` read-only, or a local path
//!   (`file://` or relative) that must stay inside a data root after symlinks and `..` are resolved
//!   (`location.rs`, `roots.rs`). An HTTP(S) source is user-supplied, so the hosts and addresses
//!   it may reach are checked against an [`EgressPolicy`] before any connection, at connect time
//!   and on every redirect (`egress.rs`, `http_source.rs`); S3 endpoints are the operator's.
//! - **Layout**: a `.parquet` file is one file; a URI ending in `/`, a local directory, or a prefix
//!   holding `train*.parquet` and `test.parquet` is VectorDBBench's directory layout; a `*` in the
//!   last segment is a glob whose matches are all train shards (`layout.rs`).
//! - **Reading** is streamed one row group and one record batch at a time, decoding only the id,
//!   vector and scalar columns the schema names (`batches.rs`, `stream.rs`, `decode.rs`); every
//!   disagreement with the schema is a `StorageError::Format` naming file, column and row group.
//!   `inspect` reads footers only (`inspect.rs`).
//! - **Writing** datasets (`write.rs`) and results (`results.rs`) goes through the same stores.
//! - **Archives** (snapshots, `archive.rs`) are streamed into a repository, a local directory
//!   confined like a source or an `s3://bucket/prefix`: a multipart upload on S3, a hidden partial
//!   file renamed when finished locally, so an archive appears whole or not at all.
//!
//! TLS: `object_store` talks HTTPS through reqwest and rustls with the aws-lc-rs crypto provider,
//! the only rustls provider in the workspace; [`install_crypto_provider`] makes it the process
//! default so nothing that asks rustls for a default provider can panic.
#![deny(missing_docs)]

mod adapter;
mod archive;
mod batches;
mod columns;
mod config;
mod decode;
mod egress;
mod error;
mod footer;
mod glob;
mod http_source;
mod inspect;
mod layout;
mod location;
mod neighbors;
mod reader;
mod results;
mod roots;
mod stores;
mod stream;
mod tls;
mod truth;
mod write;

pub use adapter::ParquetStorage;
pub use config::{DEFAULT_HTTP_IDLE_TIMEOUT, ParquetStorageConfig, ResultsLocation};
pub use egress::{EgressPolicy, InvalidEgressPolicy};
pub use tls::install_crypto_provider;
