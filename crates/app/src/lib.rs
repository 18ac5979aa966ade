//! The qbench application: the actix-web REST layer (documented with apistos), configuration,
//! telemetry and the `qbench` command line. It wires adapters into the services and maps every
//! error to RFC 7807 problem details; it holds no business rules of its own.
//!
//! Main pieces: [`server::build_app`] (the HTTP app, also used by tests), [`settings::Settings`]
//! (layered configuration), [`api`] (handlers), [`dto`] (wire types) and [`cli::Cli`].

pub mod allocator;
pub mod api;
pub mod artifact_urls;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod dashboard;
pub mod docs;
pub mod dto;
pub mod isolation;
pub mod job_queue;
pub mod observe;
pub mod protect;
pub mod queue_metrics;
pub mod secret_key;
pub mod server;
pub mod settings;
pub mod state;
pub mod telemetry;
pub mod wiring;
