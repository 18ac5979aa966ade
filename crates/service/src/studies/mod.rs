//! Tuning studies: a `study` job builds each configuration of a search space as a trial run,
//! measured by the same workers as any run, and reports the Pareto fronts and the configuration
//! to run ([`qbench_domain::study::StudyReport`]).

mod handler;
mod reuse;
mod service;
mod trial;

pub use handler::StudyHandler;
pub use service::StudyService;
