//! Finding a dataset's files and its layout from what its URI names.
//!
//! - A file (`….parquet`, or a local file) is [`DatasetLayout::SingleFile`].
//! - A prefix or directory holding `train*.parquet` shards (or VectorDBBench's `shuffle_train*`
//!   when there is no `train*`), `test.parquet` and optionally `neighbors.parquet` is
//!   [`DatasetLayout::Directory`]; shards are read in name order. A URI ending in `/` or naming a
//!   local directory must be one; a bare S3 prefix without train shards is tried as one object.
//! - A pattern in the last segment is [`DatasetLayout::Glob`]: every match is a train shard.
//!
//! Only the top level of a directory is looked at. HTTP servers rarely list directories (WebDAV's
//! `PROPFIND`), so for them the conventional names are probed instead.

use object_store::path::{Path, PathPart};
use object_store::{ObjectMeta, ObjectStoreExt};
use qbench_domain::VectorName;
use qbench_storage::{DatasetLayout, StorageError};

use crate::error;
use crate::glob;
use crate::location::{Location, StoreKind, Target, blocking};
use crate::roots::DataRoots;

/// The name of the queries file of the directory layout.
pub(crate) const TEST_FILE: &str = "test.parquet";
/// The name of the ground-truth file of a directory dataset with one vector.
pub(crate) const NEIGHBORS_FILE: &str = "neighbors.parquet";
/// How the ground-truth file of one vector of a directory dataset starts: `neighbors-<vector>.parquet`.
const VECTOR_NEIGHBORS_PREFIX: &str = "neighbors-";
/// Names probed on HTTP servers that cannot list, in the order they are tried.
const PROBED_NAMES: [&str; 4] = ["train.parquet", "shuffle_train.parquet", TEST_FILE, NEIGHBORS_FILE];

/// One file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileRef {
    /// Its name as listed (a local symlink keeps its own name).
    pub(crate) name: String,
    /// Its path in the store (for a local symlink, the path of the file it points to).
    pub(crate) path: Path,
    /// How it is named to users (messages, inspections): its URI, or a local file's path
    /// relative to its data root.
    pub(crate) uri: String,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Its ETag, else its modification time: what changes when it is rewritten.
    pub(crate) version: Option<String>,
}

/// A dataset's files, by role.
#[derive(Debug, Clone)]
pub(crate) struct DatasetFiles {
    /// The layout.
    pub(crate) layout: DatasetLayout,
    /// Train shards (every file of a single-file or glob dataset), in reading order.
    pub(crate) train: Vec<FileRef>,
    /// `test.parquet` of a directory.
    pub(crate) test: Option<FileRef>,
    /// The ground-truth files of a directory: `neighbors.parquet` and `neighbors-<vector>.parquet`.
    pub(crate) neighbors: Vec<FileRef>,
    /// The directory's URI (the source URI for other layouts), for messages.
    pub(crate) base_uri: String,
}

/// Finds the files of the dataset at `location`.
///
/// Errors: `NotFound` for a missing file, an empty glob, or a directory without train shards;
/// store errors as mapped by [`error::from_store`].
pub(crate) async fn detect(location: &Location) -> Result<DatasetFiles, StorageError> {
    match &location.target {
        Target::File(path) => Ok(DatasetFiles {
            layout: DatasetLayout::SingleFile,
            train: vec![stat(location, path).await?],
            test: None,
            neighbors: Vec::new(),
            base_uri: location.uri.clone(),
        }),
        Target::Glob { parent, pattern } => {
            let pattern = pattern.clone();
            let train = list(location, parent, move |name| glob::matches(&pattern, name)).await?;
            if train.is_empty() {
                return Err(StorageError::NotFound { location: location.uri.clone() });
            }
            Ok(DatasetFiles {
                layout: DatasetLayout::Glob,
                train,
                test: None,
                neighbors: Vec::new(),
                base_uri: location.uri.clone(),
            })
        }
        Target::Prefix { path, explicit } => directory(location, path, *explicit).await,
    }
}

/// The files of a directory or prefix.
async fn directory(location: &Location, path: &Path, explicit: bool) -> Result<DatasetFiles, StorageError> {
    let base_uri = location.uri.trim_end_matches('/').to_owned();
    let listed = match &location.kind {
        // A server that answers the listing without the files (an HTML index, an empty
        // WebDAV answer) is probed too.
        StoreKind::Http { .. } => match list(location, path, is_layout_file).await {
            Ok(files) if files.iter().any(|file| is_train_name(name_of(file))) => files,
            Ok(_) => probe(location, path).await?,
            Err(error @ (StorageError::Refused { .. } | StorageError::Unreachable { .. })) => return Err(error),
            Err(StorageError::NotFound { .. } | StorageError::Format { .. } | StorageError::Internal(_)) => {
                probe(location, path).await?
            }
        },
        StoreKind::S3 { .. } | StoreKind::Local(_) => list(location, path, is_layout_file).await?,
    };
    let mut train: Vec<FileRef> = listed.iter().filter(|file| name_of(file).starts_with("train")).cloned().collect();
    if train.is_empty() {
        train = listed.iter().filter(|file| name_of(file).starts_with("shuffle_train")).cloned().collect();
    }
    if train.is_empty() {
        if !explicit {
            // A bare key without the `.parquet` extension may still be one Parquet object.
            return match stat(location, path).await {
                Ok(file) => Ok(DatasetFiles {
                    layout: DatasetLayout::SingleFile,
                    train: vec![file],
                    test: None,
                    neighbors: Vec::new(),
                    base_uri: location.uri.clone(),
                }),
                Err(StorageError::NotFound { .. }) => Err(StorageError::NotFound { location: location.uri.clone() }),
                Err(error) => Err(error),
            };
        }
        return Err(StorageError::NotFound { location: format!("{base_uri}/train*.parquet") });
    }
    train.sort_by(|a, b| a.name.cmp(&b.name));
    let find = |name: &str| listed.iter().find(|file| name_of(file) == name).cloned();
    Ok(DatasetFiles {
        layout: DatasetLayout::Directory,
        train,
        test: find(TEST_FILE),
        neighbors: listed.iter().filter(|file| is_neighbors_name(name_of(file))).cloned().collect(),
        base_uri,
    })
}

/// Whether a file name plays a role in the directory layout.
fn is_layout_file(name: &str) -> bool {
    is_train_name(name) || name == TEST_FILE || is_neighbors_name(name)
}

/// Whether a file name is a ground truth's (`neighbors.parquet` or `neighbors-<vector>.parquet`).
fn is_neighbors_name(name: &str) -> bool {
    name == NEIGHBORS_FILE || (name.starts_with(VECTOR_NEIGHBORS_PREFIX) && name.ends_with(".parquet"))
}

/// The file name of `vector`'s ground truth (`neighbors-<vector>.parquet`), to join to a path.
pub(crate) fn vector_neighbors_file(vector: &VectorName) -> String {
    format!("{VECTOR_NEIGHBORS_PREFIX}{vector}.parquet")
}

/// [`vector_neighbors_file`] as the store lists it: a character that cannot be in a path segment,
/// such as `/`, is percent-encoded the same way when it is written and when it is listed.
fn vector_neighbors_name(vector: &VectorName) -> String {
    PathPart::from(vector_neighbors_file(vector).as_str()).as_ref().to_owned()
}

impl DatasetFiles {
    /// The ground-truth file named after `vector`, else the plain `neighbors.parquet`.
    pub(crate) fn neighbors_of(&self, vector: &VectorName) -> Option<(&FileRef, bool)> {
        let named = vector_neighbors_name(vector);
        let find = |name: &str| self.neighbors.iter().find(|file| file.name == name);
        find(&named).map(|file| (file, true)).or_else(|| find(NEIGHBORS_FILE).map(|file| (file, false)))
    }
}

/// Whether a file name is a train shard's (`train*.parquet` or `shuffle_train*.parquet`).
fn is_train_name(name: &str) -> bool {
    name.ends_with(".parquet") && (name.starts_with("train") || name.starts_with("shuffle_train"))
}

/// The file name of a listed file.
fn name_of(file: &FileRef) -> &str {
    &file.name
}

/// Metadata of one file.
async fn stat(location: &Location, path: &Path) -> Result<FileRef, StorageError> {
    match &location.kind {
        StoreKind::Local(_) => {
            let fs_path = local_path(path);
            let path = path.clone();
            let uri = location.kind.shown(&path);
            blocking(move || {
                let metadata =
                    std::fs::metadata(&fs_path).map_err(|_| StorageError::NotFound { location: uri.clone() })?;
                if metadata.is_dir() {
                    return Err(StorageError::NotFound { location: uri });
                }
                let name = path.filename().unwrap_or_default().to_owned();
                let version = modified(&metadata);
                Ok(FileRef { name, path, uri, size: metadata.len(), version })
            })
            .await?
        }
        StoreKind::S3 { .. } | StoreKind::Http { .. } => {
            let uri = location.kind.shown(path);
            let meta = location.store.head(path).await.map_err(|error| error::from_store(&uri, &error))?;
            Ok(file_ref(location, meta))
        }
    }
}

/// The files directly inside `dir` whose names `keep` accepts, sorted by name; local files are
/// checked against the data roots (a symlink out of them is refused).
async fn list<F>(location: &Location, dir: &Path, keep: F) -> Result<Vec<FileRef>, StorageError>
where
    F: Fn(&str) -> bool + Send + 'static,
{
    let mut files = match &location.kind {
        StoreKind::Local(roots) => {
            let roots = roots.clone();
            let dir_path = local_path(dir);
            let kind = location.kind.clone();
            blocking(move || list_local(&dir_path, &roots, &kind, keep)).await??
        }
        StoreKind::S3 { .. } | StoreKind::Http { .. } => {
            let prefix = (!dir.as_ref().is_empty()).then_some(dir);
            let listing = location
                .store
                .list_with_delimiter(prefix)
                .await
                .map_err(|error| error::from_store(&location.uri, &error))?;
            listing
                .objects
                .into_iter()
                .filter(|meta| keep(meta.location.filename().unwrap_or_default()))
                .map(|meta| file_ref(location, meta))
                .collect::<Vec<_>>()
        }
    };
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

/// Lists a local directory: regular files (after following symlinks) whose names `keep` accepts.
fn list_local<F>(
    dir: &std::path::Path,
    roots: &DataRoots,
    kind: &StoreKind,
    keep: F,
) -> Result<Vec<FileRef>, StorageError>
where
    F: Fn(&str) -> bool,
{
    let entries = std::fs::read_dir(dir)
        .map_err(|error| StorageError::NotFound { location: format!("{}: {error}", dir.display()) })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| StorageError::Internal(format!("listing {}: {error}", dir.display())))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !keep(name) {
            continue;
        }
        let canonical = roots.confine_existing(&entry.path())?;
        let Ok(metadata) = std::fs::metadata(&canonical) else { continue };
        if !metadata.is_file() {
            continue;
        }
        // The file keeps its name in the directory (a symlinked shard is still `train-01`), but
        // is read through its canonical path, which is the one that was checked.
        let path = crate::location::object_path(&entry.path(), &canonical)?;
        let listed = Path::from_absolute_path(entry.path()).unwrap_or_else(|_| path.clone());
        let version = modified(&metadata);
        files.push(FileRef { name: name.to_owned(), path, uri: kind.shown(&listed), size: metadata.len(), version });
    }
    Ok(files)
}

/// Looks for the conventional file names under `dir` one by one.
async fn probe(location: &Location, dir: &Path) -> Result<Vec<FileRef>, StorageError> {
    let mut found = Vec::new();
    for name in PROBED_NAMES {
        match stat(location, &dir.clone().join(name)).await {
            Ok(file) => found.push(file),
            Err(StorageError::NotFound { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(found)
}

/// A listed object as a file of the dataset.
fn file_ref(location: &Location, meta: ObjectMeta) -> FileRef {
    FileRef {
        name: meta.location.filename().unwrap_or_default().to_owned(),
        uri: location.kind.shown(&meta.location),
        size: meta.size,
        version: meta.e_tag.or_else(|| Some(meta.last_modified.to_rfc3339())),
        path: meta.location,
    }
}

/// A local file's modification time, to the nanosecond, as its version.
fn modified(metadata: &std::fs::Metadata) -> Option<String> {
    let modified = metadata.modified().ok()?;
    let since_epoch = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    Some(format!("mtime:{}.{:09}", since_epoch.as_secs(), since_epoch.subsec_nanos()))
}

/// The file-system path of a local object path.
fn local_path(path: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/{path}"))
}
