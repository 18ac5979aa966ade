//! The command line: `qbench serve` (the default), `qbench worker`, `qbench dataset generate|inspect`,
//! `qbench bench` and `qbench admin api-key create|list|revoke`.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use qbench_domain::{ApiKeyId, Role};

use crate::commands::vectors::VectorList;

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
    /// Run the REST server (the default); it also executes queued runs unless `worker.enabled` is off.
    Serve(ServeArgs),
    /// Execute queued runs from the database without serving HTTP (scale out runs).
    Worker,
    /// Generate or inspect datasets.
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Run one experiment without the server: progress bars while it runs, a results table at the end.
    Bench(BenchArgs),
    /// Find the Qdrant settings to run: build every configuration of a grid, measure each search
    /// setting on it, and print the Pareto front and the recommendation as Qdrant JSON.
    Tune(TuneArgs),
    /// Compare two runs setting by setting, with gates that fail the command (exit 1): a search
    /// quality check for CI.
    Compare(CompareArgs),
    /// Operator tasks on the configured database.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Execute one claimed run and report on standard output (the worker starts this; not for
    /// people).
    #[command(hide = true)]
    ExecuteRun(ExecuteRunArgs),
}

/// Options of `qbench compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: a JSON file (`qbench bench --json`, a run's `result.json`) or a run id on `--server`.
    pub baseline: String,
    /// The candidate, likewise.
    pub candidate: String,
    /// The qbench server run ids are read from.
    #[arg(long, default_value = "http://127.0.0.1:5003")]
    pub server: String,
    /// An API key for the server.
    #[arg(long, env = "QBENCH_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Fail when a setting's recall drops by more than this (absolute, e.g. 0.005).
    #[arg(long)]
    pub max_recall_drop: Option<f64>,
    /// Fail when a setting's p99 latency rises by more than this (`10%` or `0.1`).
    #[arg(long)]
    pub max_p99_increase: Option<String>,
    /// Fail when a setting's QPS falls below this ratio of the baseline's (e.g. 0.9).
    #[arg(long)]
    pub min_qps_ratio: Option<f64>,
    /// Also write the two runs side by side as one self-contained HTML page (charts included).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Options of `qbench tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The dataset: a directory, a Parquet file, a glob, or `s3://…`.
    #[arg(long)]
    pub dataset: String,
    /// Its vectors as `name:dim[:distance]`, comma-separated.
    #[arg(long)]
    pub vectors: VectorList,
    /// The Qdrant measured: `embedded://` (default) or a URL.
    #[arg(long, default_value = "embedded://")]
    pub connection: String,
    /// The API key of a remote Qdrant.
    #[arg(long, env = "QDRANT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Recall@k to reach, in (0, 1].
    #[arg(long)]
    pub target_recall: f64,
    /// Results per query, and the k of recall@k.
    #[arg(long, default_value_t = 10)]
    pub k: u32,
    /// What to make best among the configurations that reach the target: qps, p99_latency or memory.
    #[arg(long, default_value = "qps")]
    pub optimise: String,
    /// Highest p99 latency a recommendation may have, in milliseconds.
    #[arg(long)]
    pub max_p99_ms: Option<f64>,
    /// Lowest QPS a recommendation may have.
    #[arg(long)]
    pub min_qps: Option<f64>,
    /// `grid` (every build and setting) or `auto` (per build, the cheapest hnsw_ef reaching the
    /// target by bisection between the smallest and largest --hnsw-ef).
    #[arg(long, default_value = "grid")]
    pub strategy: String,
    /// HNSW `m` values to build.
    #[arg(long, value_delimiter = ',', default_values_t = [8, 16, 32])]
    pub m: Vec<u32>,
    /// HNSW `ef_construct` values to build.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 128, 256])]
    pub ef_construct: Vec<u32>,
    /// Quantization to build with: none, int8, product-x4 … product-x64, binary.
    #[arg(long, value_delimiter = ',', default_value = "none")]
    pub quantization: Vec<String>,
    /// `hnsw_ef` values measured on every build.
    #[arg(long, value_delimiter = ',', default_values_t = [16, 32, 64, 128, 256, 512])]
    pub hnsw_ef: Vec<u32>,
    /// Client counts every setting is measured with.
    #[arg(long, value_delimiter = ',', default_values_t = [1])]
    pub parallel: Vec<u32>,
    /// Measured passes of each setting.
    #[arg(long, default_value_t = 3)]
    pub repetitions: u32,
    /// Write the study's report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the study's report as one self-contained HTML page (its fronts, the Qdrant JSON).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Options of `qbench execute-run`.
#[derive(Debug, Args)]
pub struct ExecuteRunArgs {
    /// The run, claimed by the worker that starts this process.
    #[arg(long)]
    pub run_id: uuid::Uuid,
    /// That worker's id.
    #[arg(long)]
    pub worker_id: String,
}

/// Operator subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Manage API keys, the credentials of scripts and CI (`auth.mode` must include `api-key`).
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
}

/// API key subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it, once: only its hash is stored.
    Create(CreateApiKeyArgs),
    /// List the keys (never the keys themselves).
    List,
    /// Revoke a key: requests with it are refused from now on.
    Revoke(RevokeApiKeyArgs),
}

/// Options of `qbench admin api-key create`.
#[derive(Debug, Args)]
pub struct CreateApiKeyArgs {
    /// The user the key acts as (what ownership and the logs record).
    #[arg(long)]
    pub user: String,
    /// The role it grants: viewer, editor or admin.
    #[arg(long)]
    pub role: Role,
    /// How long it is valid, e.g. `30d`, `12h`, `1y`; for ever when omitted.
    #[arg(long, value_name = "DURATION")]
    pub expires: Option<humantime::Duration>,
}

/// Options of `qbench admin api-key revoke`.
#[derive(Debug, Args)]
pub struct RevokeApiKeyArgs {
    /// The key's id, as `create` and `list` show it.
    pub id: ApiKeyId,
}

/// Options of `qbench serve`; they override the configuration.
#[derive(Debug, Default, Args)]
pub struct ServeArgs {
    /// Port to listen on.
    #[arg(long)]
    pub port: Option<u16>,
    /// Address to listen on.
    #[arg(long)]
    pub bind: Option<IpAddr>,
}

/// Dataset subcommands.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Write a synthetic clustered dataset in VectorDBBench's layout (train, test, neighbors).
    Generate(GenerateArgs),
    /// Read a dataset's Parquet footers: files, rows, bytes, columns.
    Inspect(InspectArgs),
}

/// Options of `qbench dataset generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Points.
    #[arg(long, default_value_t = 10_000)]
    pub rows: usize,
    /// Queries (test rows).
    #[arg(long, default_value_t = 1_000)]
    pub queries: usize,
    /// Named vectors as `name:dim[:distance]`, comma-separated (distance defaults to Cosine).
    #[arg(long, default_value = "dense:128:Cosine")]
    pub vectors: VectorList,
    /// Exact neighbours written per query (the largest `k` the dataset can score).
    #[arg(long, default_value_t = 100)]
    pub neighbors: usize,
    /// Clusters the points spread around; default rows / 500 (at least 8).
    #[arg(long)]
    pub clusters: Option<usize>,
    /// Seed: the same arguments and seed write the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output: a directory, or `s3://bucket/prefix/` (with the `MINIO_*` credentials).
    #[arg(long)]
    pub out: String,
}

/// Options of `qbench dataset inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A Parquet file, a directory (VectorDBBench layout), a glob, `s3://…` or `https://…`.
    pub uri: String,
    /// Check these vectors (`name:dim[:distance]`) against the columns.
    #[arg(long)]
    pub vectors: Option<VectorList>,
}

/// Options of `qbench bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The dataset: a Parquet file, a directory (VectorDBBench layout), a glob, `s3://…`.
    #[arg(long)]
    pub dataset: String,
    /// Its vectors as `name:dim[:distance]`, comma-separated.
    #[arg(long)]
    pub vectors: VectorList,
    /// Payload columns to upload with the points, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub scalar_fields: Vec<String>,
    /// The Qdrant: `embedded://` (the in-process engine) or `http(s)://host:6333`.
    #[arg(long, default_value = "embedded://")]
    pub connection: String,
    /// Qdrant API key for a remote connection (or `QDRANT_API_KEY`).
    #[arg(long, env = "QDRANT_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// HNSW `m` for every vector.
    #[arg(long, default_value_t = 16)]
    pub m: u32,
    /// HNSW `ef_construct` for every vector.
    #[arg(long, default_value_t = 100)]
    pub ef_construct: u32,
    /// `hnsw_ef` values, comma-separated: one search setting each.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 128, 256])]
    pub hnsw_ef: Vec<u32>,
    /// Exact search instead of the index (the ground truth's own engine).
    #[arg(long)]
    pub exact: bool,
    /// Results per query.
    #[arg(long, default_value_t = 10)]
    pub k: u32,
    /// Concurrent search clients.
    #[arg(long, default_value_t = 1)]
    pub parallel: u32,
    /// Scalar int8 quantization of every vector.
    #[arg(long)]
    pub int8: bool,
    /// Re-score quantized candidates with the original vectors.
    #[arg(long)]
    pub rescore: bool,
    /// Oversampling of quantized candidates.
    #[arg(long)]
    pub oversampling: Option<f64>,
    /// Use at most this many queries.
    #[arg(long)]
    pub queries: Option<u32>,
    /// Points per upsert request (default 256).
    #[arg(long)]
    pub batch_size: Option<u32>,
    /// Upsert requests in flight at once (default 2).
    #[arg(long)]
    pub upload_parallel: Option<u32>,
    /// Keep the collection after the run instead of dropping it.
    #[arg(long)]
    pub keep_collection: bool,
    /// Run even when the dataset's neighbours file disagrees with exact search under the declared
    /// distance (recorded in the report); by default such a run fails.
    #[arg(long)]
    pub allow_ground_truth_mismatch: bool,
    /// Seconds each search setting is measured for, at least, per repetition (default
    /// `worker.search_seconds`).
    #[arg(long)]
    pub min_seconds: Option<f64>,
    /// Measured passes of each search setting (default `worker.repetitions`).
    #[arg(long)]
    pub repetitions: Option<u32>,
    /// The hnsw_ef the headline figures report (default the setting with the best F1).
    #[arg(long)]
    pub primary_hnsw_ef: Option<u32>,
    /// Also write the full result as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}
