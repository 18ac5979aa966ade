//! Workspace-level checks for qbench.
//!
//! This crate has no library code of its own; its integration tests (under
//! `tests/tests/`) check properties of the workspace as a whole, such as the
//! direction of dependencies between the domain, port, service and adapter
//! crates (see `tests/dependency_direction.rs`).
