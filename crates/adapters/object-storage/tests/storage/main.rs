//! The object-storage adapter's integration tests, on data each test writes itself: with the
//! adapter's `DatasetWriter`, or with Arrow directly for shapes the writer never produces.
//!
//! - `layouts`: write → inspect → stream round trips for the directory, single-file and glob
//!   layouts.
//! - `types`: every vector element type in every list layout, id types, scalar payloads.
//! - `format_errors`: every contradiction of the schema names file, column and row group.
//! - `roots`: local paths confined to the data roots (`..`, symlinks, writing).
//! - `streaming`: bounded reading, shown by damaging a row group after the first batch arrived.
//! - `row_groups`: one file's range of row groups (a backfill's work item), read as within a full
//!   read and without fetching the rest.
//! - `results`: run results on disk.
//! - `egress`: HTTP(S) sources and the egress policy (every spelling of a local address,
//!   redirects, allowances, the idle timeout, servers without range requests), against
//!   `http_server`'s tiny local server.
//! - `s3`: the S3 path end to end against SeaweedFS, and HTTP sources via its filer.
//! - `archives`: snapshot archives streamed into and out of a local repository (confined like
//!   a source) and an S3 prefix (multipart), appearing only when finished.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod archives;
mod egress;
mod format_errors;
mod http_server;
mod layouts;
mod results;
mod roots;
mod row_groups;
mod s3;
mod streaming;
mod support;
mod types;
