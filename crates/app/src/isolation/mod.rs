//! Runs executed in child processes of their own.
//!
//! A benchmark hands a real engine settings a user chose and data a user pointed at; whatever
//! that does (an allocation the machine cannot give, an abort inside the engine, a panic, an
//! out-of-memory kill) must end that run, not the server. The worker therefore starts this very
//! binary as `qbench execute-run` for each claimed run ([`ChildProcessExecutor`], the parent's
//! side) and keeps the lease, the progress and the outcome itself; the child ([`execute_run`])
//! loads the same settings, executes the run in process and reports over its standard output in
//! [`ChildMessage`] lines. Cancel is a line on the child's standard input (and the end of that
//! input, when the parent dies), then a kill after a short grace.

mod child;
mod protocol;
mod supervisor;

pub use child::execute_run;
pub use protocol::ChildMessage;
pub use supervisor::ChildProcessExecutor;
