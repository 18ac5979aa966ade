//! The SQL adapter against real databases: a SQLite file and a PostgreSQL server.
//!
//! Every scenario runs on both backends. One PostgreSQL cluster serves the whole binary (each test
//! gets a database of its own on it); the fixture's watchdog stops it when the process ends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backend;
mod backfill_items;
mod contract;
mod key_check;
mod masks;
mod races;
mod schema;
mod secrets;
mod snapshots;
mod url;
