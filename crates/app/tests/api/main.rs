//! The REST API end to end: the real application stack (settings, SQL adapter, services, actix
//! app with its middleware) over a fresh database per test, called in process.
//!
//! `helpers` holds the harness: `spawn_app()` (SQLite in a temporary data dir) and
//! `spawn_app_on(Backend::Postgres)` (a database of its own on the one PostgreSQL cluster of this
//! binary), request helpers answering a [`helpers::Reply`], and the problem-details checks. The
//! scenarios that touch storage rules run on both backends through `on_both_backends!`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod api_keys;
mod artifacts;
mod auth;
mod backfills;
mod connection_test;
mod constraints;
mod contract;
mod engine;
mod errors;
mod failures;
mod ground_truth;
mod jobs;
mod lists;
mod local_files;
mod merge_patch;
mod openapi;
mod operations;
mod protection;
mod reports;
mod restart;
mod run_deletes;
mod s3_run;
mod seed;
mod snapshots;
mod studies;
