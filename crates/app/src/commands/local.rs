//! Local paths on the command line: the user's own files, readable wherever they are.

use std::path::{Path, PathBuf};

use qbench_object_storage::{ParquetStorage, ResultsLocation};
use qbench_storage::DatasetSource;

use crate::commands::CommandError;
use crate::settings::Settings;
use crate::wiring::{self, Engine};

/// A URI as the storage adapter takes it: remote URIs as given, local paths absolute under
/// `file://`, with the directory that holds them (the data root the CLI allows).
pub(crate) fn resolve(uri: &str) -> Result<(String, Option<PathBuf>), CommandError> {
    if uri.contains("://") && !uri.starts_with("file://") {
        return Ok((uri.to_owned(), None));
    }
    let path = Path::new(uri.strip_prefix("file://").unwrap_or(uri));
    let absolute = std::path::absolute(path).map_err(|err| CommandError::new(format!("{uri}: {err}")))?;
    let root = if absolute.is_dir() {
        absolute.clone()
    } else {
        absolute.parent().map_or(absolute.clone(), Path::to_path_buf)
    };
    let mut resolved = format!("file://{}", absolute.display());
    if absolute.is_dir() && !resolved.ends_with('/') {
        resolved.push('/');
    }
    Ok((resolved, Some(root)))
}

/// The storage adapter for a CLI job: the configured data roots plus `extra_root`, results in
/// `results`, HTTP(S) sources under the configured egress policy (as in the server).
pub(crate) fn storage(
    settings: &Settings,
    extra_root: Option<PathBuf>,
    results: PathBuf,
) -> Result<ParquetStorage, CommandError> {
    let mut data_roots = settings.data_roots();
    data_roots.extend(extra_root);
    let config =
        wiring::storage_config(settings, data_roots, ResultsLocation::Local(results)).map_err(CommandError::new)?;
    ParquetStorage::new(config).map_err(CommandError::new)
}

/// The dataset source at `uri`, with the default S3 credentials for `s3://`.
pub(crate) fn source(uri: &str, settings: &Settings) -> Result<DatasetSource, CommandError> {
    let parsed = uri.parse().map_err(CommandError::new)?;
    let s3 = if uri.starts_with("s3://") { Engine::default_s3(settings) } else { None };
    Ok(DatasetSource { uri: parsed, s3, local_area: None })
}
