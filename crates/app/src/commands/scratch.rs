//! The throwaway setup of `qbench bench` and `qbench tune`: a database in a scratch directory, the
//! engine, the connection and the inspected dataset, as the server would register them.

use std::sync::Arc;

use qbench_domain::{
    Caller, Connection, ConnectionSpec, Dataset, DatasetSpec, SchemaConfig, Secret, VectorName, VectorSpec,
};
use qbench_service::{ConnectionService, DatasetService, Repositories};
use qbench_sql::{SecretCipher, SqlDatabase};

use crate::commands::{CommandError, local};
use crate::job_queue::NotifyJobQueue;
use crate::settings::Settings;
use crate::wiring::{Engine, sql_repositories};

/// What a command measures with, held until it ends (the scratch directory goes with it).
pub(crate) struct Scratch {
    _dir: tempfile::TempDir,
    pub(crate) settings: Settings,
    pub(crate) repositories: Repositories,
    pub(crate) engine: Engine,
    pub(crate) caller: Caller,
    pub(crate) connection: Connection,
    pub(crate) dataset: Dataset,
    /// Wakes this process's worker when a job is queued.
    pub(crate) wake: Arc<tokio::sync::Notify>,
}

/// What to register.
pub(crate) struct Target<'a> {
    /// `--dataset`.
    pub(crate) dataset: &'a str,
    /// `--vectors`.
    pub(crate) vectors: &'a std::collections::BTreeMap<VectorName, VectorSpec>,
    /// `--scalar-fields`.
    pub(crate) scalar_fields: &'a [String],
    /// `--connection`.
    pub(crate) connection: &'a str,
    /// `--api-key`.
    pub(crate) api_key: Option<&'a str>,
    /// Where the run's artifacts (result, per-query rows, log) are kept after the command ends;
    /// `None` keeps them in the scratch directory, gone with it.
    pub(crate) results: Option<std::path::PathBuf>,
    /// Keep the embedded engine's collections there too (`<results>/engine/`), rather than in the
    /// scratch directory.
    pub(crate) keep_engine: bool,
}

impl Scratch {
    /// Opens a scratch database and registers the connection and the dataset (inspected).
    pub(crate) async fn open(target: Target<'_>, settings: &Settings) -> Result<Self, CommandError> {
        let dir = tempfile::tempdir().map_err(|err| CommandError::new(format!("scratch directory: {err}")))?;
        let (uri, root) = local::resolve(target.dataset)?;
        let mut settings = settings.clone();
        settings.engine.data_roots = settings.data_roots().into_iter().chain(root).collect();
        settings.data_dir = dir.path().to_path_buf();
        settings.engine.results = match &target.results {
            Some(kept) => {
                std::fs::create_dir_all(kept).map_err(|err| {
                    CommandError::new(format!("--json: artifacts directory {}: {err}", kept.display()))
                })?;
                let kept = std::path::absolute(kept).unwrap_or_else(|_| kept.clone());
                if target.keep_engine {
                    // The engine lives under the data dir: `<artifacts>/engine/`.
                    settings.data_dir.clone_from(&kept);
                }
                kept.display().to_string()
            }
            None => dir.path().join("results").display().to_string(),
        };

        let database_url = format!("sqlite://{}/bench.db", dir.path().display());
        let database = Arc::new(
            SqlDatabase::connect(&database_url, SecretCipher::new(SecretCipher::generate_key()))
                .await
                .map_err(CommandError::new)?,
        );
        let queue = NotifyJobQueue::default();
        let wake = queue.notifier();
        let repositories = sql_repositories(database, Arc::new(queue));
        let engine = Engine::new(&settings).map_err(CommandError::new)?;
        // The command runs on the user's own machine, against its own throwaway database.
        let caller = Caller::development();
        let connections = ConnectionService::new(repositories.connections.clone());
        let connection = if target.connection == qbench_domain::EMBEDDED_CONNECTION_URL {
            connections.ensure_builtin().await
        } else {
            let spec = ConnectionSpec {
                name: "bench".to_owned(),
                url: target.connection.to_owned(),
                api_key: target.api_key.map(|key| Secret::from(key.to_owned())),
            };
            connections.create(&caller, spec).await
        }
        .map_err(|err| CommandError::new(format!("--connection: {err}")))?;
        let datasets = DatasetService::new(repositories.datasets.clone(), repositories.storages.clone())
            .with_reader(engine.storage.clone(), engine.default_s3.clone());
        let dataset = datasets
            .create_inspected(
                &caller,
                DatasetSpec {
                    name: "bench".to_owned(),
                    source_uri: uri.parse().map_err(|err| CommandError::new(format!("--dataset: {err}")))?,
                    storage_id: None,
                    schema_config: SchemaConfig {
                        scalar_fields: target.scalar_fields.to_vec(),
                        vectors: target.vectors.clone(),
                    },
                },
            )
            .await
            .map_err(|err| CommandError::new(format!("--dataset: {err}")))?;
        Ok(Self { _dir: dir, settings, repositories, engine, caller, connection, dataset, wake })
    }
}
