//! The command line: `qbench serve` (the default), `--version`, `--help`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// qbench: benchmark and tune Qdrant.
#[derive(Debug, Parser)]
#[command(name = "qbench", version, about, long_about = None)]
pub struct Cli {
    /// A configuration file layered over the built-in defaults (TOML).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the REST server (the default).
    Serve(ServeArgs),
}

/// Options of `qbench serve`; they override the configuration.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<IpAddr>,
}
