//! The embedded engine: the `VectorStore` port on `qdrant-edge`, Qdrant's in-process engine.
//!
//! [`EmbeddedEngine`] keeps one `EdgeShard` per collection under `<root>/<collection name>/` and
//! implements `VectorStore` on it; [`EmbeddedProvider`] implements `VectorStoreProvider` for the
//! built-in `embedded://` connection and hands out one shared engine. Nothing of `qdrant-edge`
//! crosses the port: points, ids, searches and errors are translated here (`convert`, `error`),
//! and a `CollectionSpec` becomes an `EdgeConfig` in `config`.
//!
//! # Why `qdrant-edge` 0.7.2
//! [`ENGINE_VERSION`] is pinned with `=`: it is the newest release that builds on the workspace's
//! toolchain (Rust 1.95). 0.8.0 and 0.9.0 use `std::debug_assert_matches`, stable only from Rust
//! 1.96. Move the pin and the constant together when the toolchain moves.
//!
//! # Measuring the index it claims
//! The engine's defaults would let a benchmark of a small collection measure a full scan while
//! reporting HNSW, so this adapter overrides two of them:
//! - Indexing is deferred at creation (`indexing_threshold` 0 turns the indexer off), so uploads are
//!   measured apart from indexing; `build_index` then lowers the threshold to 1 KB, the smallest
//!   that still means "on", and optimizes until the engine reports nothing left to do.
//! - A search scans a segment instead of walking its graph while the segment holds fewer vectors
//!   than `full_scan_threshold` (KB of vectors; Qdrant's default is 10,000 KB, about 40,000
//!   64-dimensional vectors). The experiment's `full_scan_threshold` is used when given; otherwise
//!   the lowest Qdrant accepts, [`Limits::MIN_FULL_SCAN_THRESHOLD`] (10 KB), so the graph is searched
//!   as soon as there is one. Vectors the spec does not list get HNSW with Qdrant's `m` and
//!   `ef_construct` and that same low threshold.
//!
//! A `Plain` vector is expressed as an HNSW index with `m = 0`, Qdrant's way of building no graph:
//! its searches are full scans. The engine still counts its vectors as indexed once their segment
//! is optimized, so `build_index` expects every vector of every point to be indexed.
//!
//! # Threads and life cycle
//! `qdrant-edge` is blocking, so every call runs on `tokio::task::spawn_blocking`. An operation
//! holds its collection's read lock until its blocking work ends, even when the caller stops
//! waiting; `drop_collection` takes the write lock, so a shard is never flushed (closed) while an
//! operation runs inside it (the engine panics if that happens), and only then deletes the
//! directory, whose write-ahead log would otherwise grow forever.
//!
//! # Processes and locks
//! Each run executes in a child process with an engine of its own on the same root, so an open
//! collection holds an advisory lock on `<root>/<name>.lock` (`lock`) until it is closed: another
//! engine, in any process, is refused (`Rejected`, "in use by another process") instead of
//! writing the same files. An operation on a collection this engine has not opened but whose
//! directory exists loads it (`catalog`), taking that lock, and keeps it open like one it created:
//! until it is dropped or the engine is. Listing the collections (`collections`) never loads one.
//!
//! # Snapshots
//! `snapshot` writes Qdrant's streamable shard snapshot itself (`qdrant-edge` only unpacks one):
//! the shard is flushed under the write lock, then archived under the read lock while a write
//! mutex keeps upserts and indexing waiting, so searches go on. A blocking thread streams the tar
//! in chunks of [`SNAPSHOT_CHUNK_BYTES`] through a small channel, so memory stays bounded; dropping
//! the reader stops it. `restore` spools the archive into a hidden scratch file under the root,
//! unpacks and loads it beside the collection to validate it (a bad archive is `Rejected` and
//! changes nothing), and only then replaces the collection.
//!
//! # Logging
//! The engine logs through the `log` facade under the target `qdrant_edge`, with many harmless
//! warnings (uninitialised feature flags); applications should filter that target to `error`.
//!
//! [`Limits::MIN_FULL_SCAN_THRESHOLD`]: qbench_domain::Limits::MIN_FULL_SCAN_THRESHOLD
#![deny(missing_docs)]

mod catalog;
mod config;
mod convert;
mod engine;
mod error;
mod lock;
mod provider;
mod restore;
mod snapshot;
mod storage_usage;

pub use engine::EmbeddedEngine;
pub use provider::EmbeddedProvider;

/// The size of every chunk a snapshot is read in (`SnapshotReader::next_chunk`) but the last:
/// 1 MiB.
pub const SNAPSHOT_CHUNK_BYTES: usize = 1 << 20;

/// The engine's name in a run's provenance.
pub const ENGINE_NAME: &str = "qdrant-edge";

/// The `qdrant-edge` release this crate is built against (the `=` pin in the workspace manifest),
/// reported in a run's provenance. See the crate documentation for why this release.
pub const ENGINE_VERSION: &str = "0.7.2";
