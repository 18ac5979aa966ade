//! The embedded engine against seeded clustered data, with the domain's brute force as the truth.
//!
//! The helpers in `support` panic on failure like the tests that call them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod lifecycle;
mod provider;
mod search;
mod snapshot;
mod storage;
mod support;
