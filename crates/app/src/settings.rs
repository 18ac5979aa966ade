//! Layered configuration: built-in defaults, an optional file, then the environment.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use qbench_object_storage::EgressPolicy;
use secrecy::SecretString;
use serde::Deserialize;

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_CONFIG: &str = include_str!("../../../config/default.toml");

/// Short environment names accepted besides `QBENCH_…`, and the key each sets.
const ENV_ALIASES: [(&str, &str); 16] = [
    ("DATABASE_URL", "database.url"),
    ("PORT", "server.port"),
    ("MINIO_ENDPOINT", "object_storage.minio_endpoint"),
    ("MINIO_ACCESS_KEY", "object_storage.minio_access_key"),
    ("MINIO_SECRET_KEY", "object_storage.minio_secret_key"),
    ("QBENCH_AUTH_MODE", "auth.mode"),
    ("QBENCH_JWT_SECRET", "auth.jwt_secret"),
    ("QBENCH_JWT_PUBLIC_KEY_FILE", "auth.jwt_public_key_file"),
    ("QBENCH_JWT_JWKS_URL", "auth.jwt_jwks_url"),
    ("QBENCH_JWT_ISSUER", "auth.jwt_issuer"),
    ("QBENCH_JWT_AUDIENCE", "auth.jwt_audience"),
    ("QBENCH_JWT_USER_CLAIM", "auth.jwt_user_claim"),
    ("QBENCH_JWT_ROLES_CLAIM", "auth.jwt_roles_claim"),
    ("QBENCH_TRUSTED_PROXIES", "auth.trusted_proxies"),
    ("QBENCH_IDENTITY_HEADER", "auth.identity_header"),
    ("QBENCH_RATE_LIMIT_PER_MINUTE", "server.rate_limit_per_minute"),
];

/// A configuration that cannot be used; the message names the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct SettingsError(String);

/// The longest an artifact URL may stay valid: a week, as S3 allows for presigned URLs.
const MAX_ARTIFACT_URL_SECONDS: u64 = 604_800;

/// Everything qbench reads from its configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where the SQLite database, the generated secret key and run data live.
    pub data_dir: PathBuf,
    /// Base64 of the 32-byte key that encrypts stored secrets (`QBENCH_SECRET_KEY`).
    #[serde(default)]
    pub secret_key: Option<SecretString>,
    /// HTTP server.
    pub server: ServerSettings,
    /// Database.
    pub database: DatabaseSettings,
    /// Default S3-compatible storage.
    pub object_storage: ObjectStorageSettings,
    /// Logging.
    pub log: LogSettings,
    /// Where datasets are read from and results written.
    pub engine: EngineSettings,
    /// The run worker of this process.
    pub worker: WorkerConfig,
    /// How requests are identified.
    pub auth: AuthSettings,
    /// Which addresses user-supplied HTTP(S) dataset sources may reach.
    pub egress: EgressSettings,
    /// How large a study may be.
    pub studies: StudySettings,
    /// Where these settings were loaded from, so a run's child process loads the very same.
    #[serde(skip)]
    pub origin: SettingsOrigin,
}

/// How large a study may be: a space expanding past these is refused with 422.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySettings {
    /// Collections one study may build.
    pub max_builds: u64,
    /// Measurements (build × search setting × client count) one study may make.
    pub max_measurements: u64,
    /// Measured passes of each setting.
    pub max_repetitions: u32,
    /// The smallest sample `auto` builds on in its rounds before the full data.
    pub min_sample_points: u64,
}

impl StudySettings {
    /// The domain's limits.
    pub fn limits(self) -> qbench_domain::study::StudyLimits {
        qbench_domain::study::StudyLimits {
            max_builds: self.max_builds,
            max_measurements: self.max_measurements,
            max_repetitions: self.max_repetitions,
        }
    }
}

/// The file and environment a [`Settings`] was loaded from.
#[derive(Debug, Clone, Default)]
pub struct SettingsOrigin {
    /// The `--config` file, when one was given.
    pub file: Option<PathBuf>,
    /// The environment variables that were read.
    pub env: HashMap<String, String>,
}

/// Which addresses user-supplied HTTP(S) dataset sources may reach beyond public ones, and how
/// long such a source may stay silent (see `config/default.toml`). Registered endpoints (S3
/// storages, `MINIO_*`, connections, the JWKS URL) are the operator's and not subject to it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressSettings {
    /// CIDRs or addresses allowed although not public: a list, or comma-separated in the
    /// environment.
    #[serde(deserialize_with = "list_or_commas")]
    pub allow_cidrs: Vec<String>,
    /// Host names (or `*.domain`) allowed whatever they resolve to, as above.
    #[serde(deserialize_with = "list_or_commas")]
    pub allow_hosts: Vec<String>,
    /// Seconds an HTTP(S) source may stay silent before its request fails.
    pub http_idle_timeout_seconds: u64,
}

impl EgressSettings {
    /// The policy the adapter applies.
    ///
    /// # Errors
    /// An entry that is not a CIDR, address or host name, naming the key.
    pub fn policy(&self) -> Result<EgressPolicy, SettingsError> {
        let none: [&str; 0] = [];
        EgressPolicy::new(&self.allow_cidrs, none)
            .map_err(|err| SettingsError(format!("egress.allow_cidrs (QBENCH_EGRESS__ALLOW_CIDRS): {err}")))?;
        EgressPolicy::new(none, &self.allow_hosts)
            .map_err(|err| SettingsError(format!("egress.allow_hosts (QBENCH_EGRESS__ALLOW_HOSTS): {err}")))?;
        EgressPolicy::new(&self.allow_cidrs, &self.allow_hosts).map_err(|err| SettingsError(format!("egress: {err}")))
    }

    /// How long an HTTP(S) source may stay silent.
    pub fn http_idle_timeout(&self) -> Duration {
        Duration::from_secs(self.http_idle_timeout_seconds)
    }
}

/// A list of strings from a list (a file) or from one comma-separated string (the environment,
/// where `config` knows no lists); blank items are dropped.
fn list_or_commas<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrCommas {
        List(Vec<String>),
        Commas(String),
    }
    let items = match ListOrCommas::deserialize(deserializer)? {
        ListOrCommas::List(items) => items,
        ListOrCommas::Commas(text) => text.split(',').map(str::to_owned).collect(),
    };
    Ok(items.into_iter().map(|item| item.trim().to_owned()).filter(|item| !item.is_empty()).collect())
}

/// How requests are identified (see `config/default.toml` for each key).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// `none`, or a comma-separated combination of `jwt`, `proxy-header`, `api-key`.
    pub mode: String,
    /// HS256 shared secret.
    pub jwt_secret: SecretString,
    /// PEM file of the RS256/ES256 public key.
    pub jwt_public_key_file: String,
    /// JWKS document: a file path or an http(s) URL.
    pub jwt_jwks_url: String,
    /// Required `iss`, when set.
    pub jwt_issuer: String,
    /// Required `aud`, when set.
    pub jwt_audience: String,
    /// Claim naming the user.
    pub jwt_user_claim: String,
    /// Claim holding the role names.
    pub jwt_roles_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    pub jwt_leeway_seconds: u64,
    /// Lifetime of a fetched JWKS document, in seconds.
    pub jwks_refresh_seconds: u64,
    /// Header an identity-aware proxy sets.
    pub identity_header: String,
    /// CIDRs the identity header is believed from, comma-separated.
    pub trusted_proxies: String,
    /// Role of users identified by the proxy header.
    pub proxy_role: String,
    /// Users who are always admins, comma-separated.
    pub admins: String,
    /// Whether `/metrics` needs credentials.
    pub protect_metrics: bool,
    /// Whether the API docs need credentials.
    pub protect_docs: bool,
}

/// Dataset and result locations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// Local directories datasets may be read from; empty means the data dir.
    pub data_roots: Vec<PathBuf>,
    /// Results location: a directory or `s3://bucket/prefix`; empty means `<data_dir>/results`.
    pub results: String,
    /// Bytes an embedded collection build may need; 0 means half of the machine's memory.
    pub memory_budget_bytes: u64,
    /// `shared` (every user reads anything under the data roots) or `per-user` (a dataset reads
    /// only under `<root>/<owner>/`).
    pub local_access: String,
}

/// How this process executes runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Whether this process executes runs.
    pub enabled: bool,
    /// Runs executed at once.
    pub max_concurrent_runs: usize,
    /// Jobs of other kinds executed at once beside the runs.
    pub max_concurrent_jobs: usize,
    /// Labels this worker carries, comma-separated.
    pub labels: String,
    /// How often the queue is looked at without a wake-up, in milliseconds.
    pub poll_ms: u64,
    /// The port `qbench worker` serves `/health` and `/metrics` on; 0 for none.
    pub http_port: u16,
    /// Lease of a claimed run, in seconds.
    pub lease_seconds: u64,
    /// Heartbeat interval, in milliseconds.
    pub heartbeat_ms: u64,
    /// Points per upsert.
    pub batch_size: usize,
    /// Upserts in flight.
    pub upload_parallelism: usize,
    /// Default number of test queries.
    pub queries: usize,
    /// Seconds each search setting is measured for, at least, per repetition, when the experiment
    /// does not say.
    pub search_seconds: f64,
    /// Measured passes of each search setting when the experiment does not say.
    pub repetitions: u32,
    /// Where a claimed run executes: each in a child process of its own (the default), or in
    /// this process.
    pub isolation: Isolation,
    /// How long a cancelled run's process may take to stop on its own before it is killed, in
    /// milliseconds.
    pub cancel_grace_ms: u64,
    /// The program a run's process executes; empty means this very binary.
    pub executable: String,
}

/// Where a claimed run executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// Each run in a child process (`qbench execute-run`) that the worker supervises: a crash, an
    /// abort or an out-of-memory kill there fails that run, never the server.
    Process,
    /// In the worker's own process (for debugging and tests).
    InProcess,
}

/// HTTP server settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address to listen on.
    pub bind: IpAddr,
    /// Port to listen on (0 picks a free one).
    pub port: u16,
    /// Grace period for in-flight requests at shutdown, in seconds.
    pub shutdown_timeout_seconds: u64,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a request may take before it is answered 504.
    pub request_timeout_seconds: u64,
    /// Requests per minute per identity; 0 means unlimited.
    pub rate_limit_per_minute: u32,
    /// Origins allowed by CORS, comma-separated.
    pub cors_allowed_origins: String,
    /// Seconds the signed URLs to a run's artifacts stay valid.
    pub artifact_url_seconds: u64,
}

/// Database settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`; empty means SQLite under the data dir.
    pub url: SecretString,
}

/// The default S3-compatible storage (the `MINIO_*` variables).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStorageSettings {
    /// Endpoint URL; empty when none is configured.
    pub minio_endpoint: String,
    /// Access key id.
    pub minio_access_key: SecretString,
    /// Secret access key.
    pub minio_secret_key: SecretString,
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `json` or `pretty`.
    pub format: LogFormat,
    /// A `tracing` filter directive.
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

impl Settings {
    /// Loads the defaults, then `file` if given, then `env` (`QBENCH_SECTION__KEY` and the aliases).
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULT_CONFIG, FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(SettingsError(format!("--config: no file at {}", path.display())));
            }
            builder = builder.add_source(File::from(path).required(true));
        }
        let prefixed: HashMap<String, String> = env
            .iter()
            .filter(|(key, _)| key.starts_with("QBENCH_") && known_prefixed(key))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        builder = builder.add_source(
            Environment::with_prefix("QBENCH").prefix_separator("_").separator("__").source(Some(prefixed)),
        );
        for (name, key) in ENV_ALIASES {
            if let Some(value) = env.get(name) {
                builder =
                    builder.set_override(key, value.as_str()).map_err(|err| SettingsError(format!("{name}: {err}")))?;
            }
        }
        let mut settings: Settings =
            builder.build().and_then(Config::try_deserialize).map_err(|err| SettingsError(err.to_string()))?;
        settings.check()?;
        settings.origin = SettingsOrigin { file: file.map(Path::to_path_buf), env: env.clone() };
        Ok(settings)
    }

    /// Loads from the process environment.
    pub fn from_process_env(file: Option<&Path>) -> Result<Self, SettingsError> {
        Self::load(file, &std::env::vars().collect())
    }

    fn check(&self) -> Result<(), SettingsError> {
        use secrecy::ExposeSecret;
        let url = self.database.url.expose_secret();
        if !url.is_empty() && !["sqlite:", "postgres://", "postgresql://"].iter().any(|scheme| url.starts_with(scheme))
        {
            let scheme = url.split(':').next().unwrap_or_default();
            return Err(SettingsError(format!(
                "database.url (DATABASE_URL): scheme `{scheme}` is not supported; use sqlite://… or postgres://…"
            )));
        }
        if !self.object_storage.minio_endpoint.is_empty()
            && url::Url::parse(&self.object_storage.minio_endpoint).is_err()
        {
            return Err(SettingsError(format!(
                "object_storage.minio_endpoint (MINIO_ENDPOINT): `{}` is not a URL",
                self.object_storage.minio_endpoint
            )));
        }
        if self.engine.local_access.parse::<qbench_domain::LocalAccess>().is_err() {
            return Err(SettingsError(format!(
                "engine.local_access (QBENCH_ENGINE__LOCAL_ACCESS): `{}` is not `shared` or `per-user`",
                self.engine.local_access
            )));
        }
        if self.worker.max_concurrent_runs == 0
            || self.worker.max_concurrent_jobs == 0
            || self.worker.batch_size == 0
            || self.worker.upload_parallelism == 0
            || self.worker.poll_ms == 0
        {
            return Err(SettingsError(
                "worker.max_concurrent_runs, worker.max_concurrent_jobs, worker.batch_size, worker.upload_parallelism \
                 and worker.poll_ms must be positive"
                    .to_owned(),
            ));
        }
        let seconds = self.worker.search_seconds;
        if !(seconds.is_finite() && qbench_domain::Limits::SEARCH_SECONDS.contains(&seconds)) {
            return Err(SettingsError(format!(
                "worker.search_seconds (QBENCH_WORKER__SEARCH_SECONDS): {seconds} is outside 0..=600"
            )));
        }
        if !qbench_domain::Limits::REPETITIONS.contains(&self.worker.repetitions) {
            return Err(SettingsError(format!(
                "worker.repetitions (QBENCH_WORKER__REPETITIONS): {} is outside 1..=20",
                self.worker.repetitions
            )));
        }
        if let Err(error) = self.worker_labels() {
            return Err(SettingsError(format!("worker.labels (QBENCH_WORKER__LABELS): {error}")));
        }
        if self.worker.heartbeat_ms == 0 || self.worker.lease_seconds * 1000 <= self.worker.heartbeat_ms * 2 {
            return Err(SettingsError(
                "worker.lease_seconds must cover several heartbeats (worker.heartbeat_ms)".to_owned(),
            ));
        }
        if self.server.max_body_bytes == 0 {
            return Err(SettingsError("server.max_body_bytes: must be positive".to_owned()));
        }
        if self.server.artifact_url_seconds > MAX_ARTIFACT_URL_SECONDS {
            return Err(SettingsError(format!(
                "server.artifact_url_seconds: {} is more than {MAX_ARTIFACT_URL_SECONDS} (7 days, S3's longest)",
                self.server.artifact_url_seconds
            )));
        }
        if self.server.request_timeout_seconds == 0 {
            return Err(SettingsError("server.request_timeout_seconds: must be positive".to_owned()));
        }
        crate::auth::AuthConfig::from_settings(&self.auth).map_err(|err| SettingsError(err.to_string()))?;
        self.egress.policy()?;
        if self.egress.http_idle_timeout_seconds == 0 {
            return Err(SettingsError("egress.http_idle_timeout_seconds: must be positive".to_owned()));
        }
        if let Err(err) = self.log.level.parse::<tracing_subscriber::EnvFilter>() {
            return Err(SettingsError(format!("log.level: `{}`: {err}", self.log.level)));
        }
        Ok(())
    }

    /// The local directories datasets may be read from.
    pub fn data_roots(&self) -> Vec<PathBuf> {
        if self.engine.data_roots.is_empty() { vec![self.data_dir.clone()] } else { self.engine.data_roots.clone() }
    }

    /// qbench's own state, which no dataset may read or overwrite even inside a data root: the
    /// SQLite database (with its write-ahead log), the generated secret key, the results
    /// directory and the engine's collections.
    pub fn private_paths(&self, results: &qbench_object_storage::ResultsLocation) -> Vec<PathBuf> {
        let mut paths = vec![self.data_dir.join("secret.key"), self.data_dir.join("engine")];
        if let qbench_object_storage::ResultsLocation::Local(directory) = results {
            paths.push(directory.clone());
        }
        if let Some(file) = self.sqlite_file() {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = file.clone().into_os_string();
                name.push(suffix);
                paths.push(PathBuf::from(name));
            }
        }
        paths
    }

    /// The file of the SQLite database (as `database.url` names it, options left out); `None` for
    /// PostgreSQL.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        use secrecy::ExposeSecret;
        let url = self.database_url();
        let file =
            url.expose_secret().strip_prefix("sqlite://").or_else(|| url.expose_secret().strip_prefix("sqlite:"))?;
        Some(PathBuf::from(file.split('?').next().unwrap_or(file)))
    }

    /// The labels this worker carries (`worker.labels`, comma-separated).
    pub fn worker_labels(&self) -> Result<Vec<qbench_domain::WorkerLabel>, qbench_domain::DomainError> {
        self.worker.labels.split(',').map(str::trim).filter(|label| !label.is_empty()).map(str::parse).collect()
    }

    /// Whose local files a dataset may read (`engine.local_access`, checked at load).
    pub fn local_access(&self) -> qbench_domain::LocalAccess {
        self.engine.local_access.parse().unwrap_or_default()
    }

    /// The memory budget of embedded builds: the configured bytes, or half of the machine's
    /// memory (`MemTotal` of `/proc/meminfo`) when 0; `None` when neither is known.
    pub fn memory_budget(&self) -> Option<u64> {
        if self.engine.memory_budget_bytes > 0 {
            return Some(self.engine.memory_budget_bytes);
        }
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        total_memory(&meminfo).map(|total| total / 2)
    }

    /// The database URL, defaulting to SQLite under the data dir.
    pub fn database_url(&self) -> SecretString {
        use secrecy::ExposeSecret;
        if self.database.url.expose_secret().is_empty() {
            SecretString::from(format!("sqlite://{}/qbench.db", self.data_dir.display()))
        } else {
            self.database.url.clone()
        }
    }
}

/// Whether a `QBENCH_` variable names a configuration key: a top-level key, or
/// `QBENCH_<SECTION>__<KEY>` for a section of [`Settings`] (other `QBENCH_` variables, such as
/// test-harness ones, are not configuration and are left alone).
fn known_prefixed(key: &str) -> bool {
    const TOP_LEVEL: [&str; 2] = ["QBENCH_DATA_DIR", "QBENCH_SECRET_KEY"];
    const SECTIONS: [&str; 8] = ["SERVER", "DATABASE", "OBJECT_STORAGE", "LOG", "ENGINE", "WORKER", "AUTH", "EGRESS"];
    TOP_LEVEL.contains(&key)
        || key
            .strip_prefix("QBENCH_")
            .and_then(|rest| rest.split_once("__"))
            .is_some_and(|(section, _)| SECTIONS.contains(&section))
}

/// `MemTotal` of a `/proc/meminfo` text, in bytes.
fn total_memory(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kib: u64 = line.trim_start_matches("MemTotal:").trim().trim_end_matches("kB").trim().parse().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn defaults_are_the_embedded_set_up() {
        let settings = Settings::load(None, &env(&[])).unwrap();
        assert_eq!(settings.server.port, 5003);
        assert_eq!(settings.server.rate_limit_per_minute, 1200, "no identity can flood the service by default");
        use secrecy::ExposeSecret;
        assert_eq!(settings.database_url().expose_secret(), "sqlite://./data/qbench.db");
    }

    #[test]
    fn environment_overrides_defaults_including_the_short_names() {
        let settings = Settings::load(
            None,
            &env(&[("PORT", "8080"), ("QBENCH_LOG__FORMAT", "pretty"), ("QBENCH_DATA_DIR", "/tmp/q")]),
        )
        .unwrap();
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.log.format, LogFormat::Pretty);
        assert_eq!(settings.data_dir, PathBuf::from("/tmp/q"));
    }

    #[test]
    fn every_section_is_settable_from_the_environment() {
        let settings = Settings::load(
            None,
            &env(&[
                ("QBENCH_WORKER__ENABLED", "false"),
                ("QBENCH_WORKER__LEASE_SECONDS", "7"),
                ("QBENCH_ENGINE__RESULTS", "s3://bucket/results"),
                ("QBENCH_TEST_HARNESS", "not configuration"),
            ]),
        )
        .unwrap();
        assert!(!settings.worker.enabled);
        assert_eq!(settings.worker.lease_seconds, 7);
        assert_eq!(settings.engine.results, "s3://bucket/results");
        let err = Settings::load(None, &env(&[("QBENCH_WORKER__HEARTBEAT_MS", "0")])).unwrap_err().to_string();
        assert!(err.contains("worker.heartbeat_ms"), "{err}");
    }

    #[test]
    fn egress_allowances_come_from_lists_or_comma_separated_variables() {
        let settings = Settings::load(None, &env(&[])).unwrap();
        assert!(settings.egress.allow_cidrs.is_empty() && settings.egress.allow_hosts.is_empty());
        assert_eq!(settings.egress.policy().unwrap(), EgressPolicy::default(), "nothing more is allowed by default");
        assert_eq!(settings.egress.http_idle_timeout(), Duration::from_secs(30));
        let settings = Settings::load(
            None,
            &env(&[
                ("QBENCH_EGRESS__ALLOW_CIDRS", "10.0.0.0/8, 127.0.0.1/32"),
                ("QBENCH_EGRESS__ALLOW_HOSTS", "datasets.internal"),
                ("QBENCH_EGRESS__HTTP_IDLE_TIMEOUT_SECONDS", "5"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.egress.allow_cidrs, ["10.0.0.0/8", "127.0.0.1/32"]);
        assert_eq!(settings.egress.allow_hosts, ["datasets.internal"]);
        assert!(settings.egress.policy().unwrap().allows_ip("127.0.0.1".parse().unwrap()));
        assert_eq!(settings.egress.http_idle_timeout(), Duration::from_secs(5));
        let err = Settings::load(None, &env(&[("QBENCH_EGRESS__ALLOW_CIDRS", "10.0.0.0/33")])).unwrap_err().to_string();
        assert!(err.contains("egress.allow_cidrs") && err.contains("10.0.0.0/33"), "{err}");
        let err = Settings::load(None, &env(&[("QBENCH_EGRESS__ALLOW_HOSTS", "10.0.0.1")])).unwrap_err().to_string();
        assert!(err.contains("egress.allow_hosts"), "{err}");
    }

    #[test]
    fn total_memory_reads_memtotal_in_bytes() {
        let meminfo = "MemTotal:       24576000 kB\nMemFree:         1000 kB\n";
        assert_eq!(total_memory(meminfo), Some(24_576_000 * 1024));
        assert_eq!(total_memory("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn the_sqlite_file_leaves_out_its_options_and_postgres_has_none() {
        let sqlite =
            Settings::load(None, &env(&[("DATABASE_URL", "sqlite:///srv/qbench/qbench.db?mode=rwc")])).unwrap();
        assert_eq!(sqlite.sqlite_file(), Some(PathBuf::from("/srv/qbench/qbench.db")));
        let default = Settings::load(None, &env(&[("QBENCH_DATA_DIR", "/srv/data")])).unwrap();
        assert_eq!(default.sqlite_file(), Some(PathBuf::from("/srv/data/qbench.db")));
        let postgres = Settings::load(None, &env(&[("DATABASE_URL", "postgres://qbench@localhost/qbench")])).unwrap();
        assert_eq!(postgres.sqlite_file(), None);
    }

    #[test]
    fn invalid_values_name_their_key() {
        let err = Settings::load(None, &env(&[("PORT", "eighty")])).unwrap_err().to_string();
        assert!(err.contains("server.port"), "{err}");
        let err = Settings::load(None, &env(&[("DATABASE_URL", "mysql://x")])).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL") && err.contains("mysql"), "{err}");
        let err = Settings::load(None, &env(&[("QBENCH_LOG__FORMAT", "xml")])).unwrap_err().to_string();
        assert!(err.contains("log.format") || err.contains("xml"), "{err}");
    }
}
