//! Keeping local paths inside the configured data roots.
//!
//! A path is resolved the way the operating system would open it: relative paths against the first
//! root, then the longest existing prefix is canonicalised (following every symlink and `..`), and
//! the rest, which does not exist yet, is appended lexically. The result must lie inside a
//! canonicalised root. The resolved path, not the given one, is what gets opened, so what was
//! checked is what is read or written.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use qbench_storage::StorageError;

/// The data roots, as configured.
#[derive(Debug, Clone)]
pub(crate) struct DataRoots {
    roots: Vec<PathBuf>,
    private: Vec<PathBuf>,
    /// The area every root is narrowed to, for messages.
    area: Option<String>,
}

impl DataRoots {
    /// Roots as configured; they may not exist yet (they are canonicalised at each use).
    pub(crate) fn new(roots: Vec<PathBuf>) -> Self {
        Self { roots, private: Vec::new(), area: None }
    }

    /// The same roots narrowed to the directory `area` inside each (a user's own area); the
    /// private paths stay private.
    pub(crate) fn within(&self, area: &str) -> Self {
        Self {
            roots: self.roots.iter().map(|root| root.join(area)).collect(),
            private: self.private.clone(),
            area: Some(area.to_owned()),
        }
    }

    /// The same roots, with files and directories inside them that are never read or written as
    /// datasets: qbench's own state (database, secret key, results, engine collections).
    pub(crate) fn excluding(mut self, private: Vec<PathBuf>) -> Self {
        self.private = private;
        self
    }

    /// Resolves `path` (as the user wrote it, for messages) inside a root, or refuses it.
    ///
    /// The path need not exist: a dataset writer creates it. Errors: `Refused` when no root is
    /// configured or the resolved path is outside every root.
    pub(crate) fn confine(&self, path: &Path) -> Result<PathBuf, StorageError> {
        let Some(first) = self.roots.first() else {
            return Err(StorageError::Refused {
                location: path.display().to_string(),
                reason: "local paths are disabled: no data roots are configured".to_owned(),
            });
        };
        let absolute = if path.is_absolute() { path.to_path_buf() } else { first.join(path) };
        let resolved = resolve(&absolute).map_err(|error| StorageError::Refused {
            location: path.display().to_string(),
            reason: format!("cannot resolve the path: {}", error.kind()),
        })?;
        self.check(path, &resolved)?;
        Ok(resolved)
    }

    /// Resolves the directory `path` inside a root like [`confine`](Self::confine), creating it
    /// when missing (and the owner's area of the root it lies in, which nothing else creates).
    /// It is created only once its nearest existing ancestor was confined, and checked again
    /// once it exists, so a symlink swapped in meanwhile is caught before anything is written.
    ///
    /// Errors: those of `confine`; `Refused` when the path is not a directory or cannot be
    /// created.
    pub(crate) fn confine_dir(&self, path: &Path) -> Result<PathBuf, StorageError> {
        self.create_area(path);
        let resolved = self.confine(path)?;
        let refused = |reason: String| StorageError::Refused { location: self.shown(&resolved), reason };
        if resolved.exists() && !resolved.is_dir() {
            return Err(refused("not a directory".to_owned()));
        }
        fs::create_dir_all(&resolved)
            .map_err(|error| refused(format!("cannot create the directory: {}", error.kind())))?;
        let canonical = fs::canonicalize(&resolved)
            .map_err(|error| refused(format!("cannot resolve the directory: {}", error.kind())))?;
        self.check(path, &canonical)?;
        Ok(canonical)
    }

    /// Creates the owner's area in the root `path` lies in (the first for a relative path), when
    /// the roots are narrowed to one and the root itself exists; failures are left to `confine`.
    fn create_area(&self, path: &Path) {
        if self.area.is_none() {
            return;
        }
        for (index, area) in self.roots.iter().enumerate() {
            let Some(root) = area.parent().filter(|root| root.is_dir()) else { continue };
            let holds = if path.is_absolute() {
                let canonical = fs::canonicalize(root).ok().zip(area.file_name()).map(|(root, name)| root.join(name));
                path.starts_with(area) || canonical.is_some_and(|area| path.starts_with(area))
            } else {
                index == 0
            };
            if holds && !area.exists() {
                // Already there (a concurrent call) or impossible: `confine` says which.
                let _ = fs::create_dir(area);
            }
        }
    }

    /// Checks that an already resolved path (e.g. a listed file, canonicalised) is inside a root
    /// and outside qbench's own state. Messages name the path as the user gave it, never the
    /// server's roots or what the path resolves to (the log has those).
    pub(crate) fn check(&self, given: &Path, resolved: &Path) -> Result<(), StorageError> {
        let private = self.private.iter().any(|private| {
            let canonical = fs::canonicalize(private).unwrap_or_else(|_| private.clone());
            resolved.starts_with(&canonical)
        });
        if private {
            tracing::warn!(path = %given.display(), resolved = %resolved.display(), "refused: qbench's own state");
            return Err(StorageError::Refused {
                location: self.shown(given),
                reason: "the path holds qbench's own state (database, key, results or engine data)".to_owned(),
            });
        }
        let canonical_roots: Vec<PathBuf> = self.roots.iter().filter_map(|root| fs::canonicalize(root).ok()).collect();
        if canonical_roots.iter().any(|root| resolved.starts_with(root)) {
            return Ok(());
        }
        let shown: Vec<String> = self.roots.iter().map(|root| root.display().to_string()).collect();
        tracing::info!(
            path = %given.display(), resolved = %resolved.display(), roots = %shown.join(", "),
            "refused: outside the data roots"
        );
        let reason = match &self.area {
            None => "the path is outside the data roots".to_owned(),
            Some(area) => format!("the path is outside the data roots' `{area}/`, the dataset owner's own area"),
        };
        Err(StorageError::Refused { location: self.shown(given), reason })
    }

    /// A path for messages: relative to the root it lies in (so no server path is shown), or as
    /// the user wrote it.
    pub(crate) fn shown(&self, given: &Path) -> String {
        let canonical = self.roots.iter().filter_map(|root| fs::canonicalize(root).ok());
        for root in self.roots.iter().cloned().chain(canonical) {
            if let Ok(relative) = given.strip_prefix(&root) {
                return relative.display().to_string();
            }
        }
        given.display().to_string()
    }

    /// Canonicalises an existing file (following symlinks) and checks it is inside a root.
    pub(crate) fn confine_existing(&self, path: &Path) -> Result<PathBuf, StorageError> {
        let canonical = fs::canonicalize(path).map_err(|error| {
            if error.kind() == io::ErrorKind::NotFound {
                StorageError::NotFound { location: path.display().to_string() }
            } else {
                StorageError::Refused { location: path.display().to_string(), reason: error.to_string() }
            }
        })?;
        self.check(path, &canonical)?;
        Ok(canonical)
    }
}

/// Canonicalises the longest existing prefix of an absolute path and appends the rest lexically.
fn resolve(absolute: &Path) -> io::Result<PathBuf> {
    let mut existing = PathBuf::new();
    let mut rest: Vec<Component<'_>> = Vec::new();
    for component in absolute.components() {
        if rest.is_empty() {
            let candidate = existing.join(component);
            // `symlink_metadata` sees a dangling symlink as existing, so canonicalising it fails
            // below instead of the writer following it later.
            if fs::symlink_metadata(&candidate).is_ok() {
                existing = candidate;
                continue;
            }
        }
        rest.push(component);
    }
    let mut resolved = fs::canonicalize(&existing)?;
    for component in rest {
        match component {
            Component::Normal(name) => resolved.push(name),
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_tails_are_appended_and_dot_dots_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let roots = DataRoots::new(vec![root.clone()]);
        assert_eq!(roots.confine(Path::new("new/../x/y")).unwrap(), root.join("x/y"));
        assert!(matches!(roots.confine(Path::new("new/../../x")), Err(StorageError::Refused { .. })));
    }

    #[test]
    fn no_roots_refuse_everything() {
        let error = DataRoots::new(Vec::new()).confine(Path::new("a.parquet")).unwrap_err();
        assert!(error.to_string().contains("no data roots"), "{error}");
    }
}
