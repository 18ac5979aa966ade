//! The object-storage port: reading datasets (Parquet files in S3-compatible storage, over HTTPS or
//! on local disk) without naming the library that does it.
//!
//! Its traits arrive with the benchmark engine, which is the first code that reads a dataset; the
//! crate exists now so the workspace has its final shape and its dependency rules are checked from
//! the start.
#![deny(missing_docs)]
