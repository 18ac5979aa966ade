//! [`CollectionLock`]: one process at a time opens a collection.
//!
//! Every run executes in a child process with an engine of its own on the same root, and the
//! server's engine may snapshot, restore or drop a collection a run kept. Two engines opening one
//! shard would each write its files, so an engine holds an advisory lock on `<root>/<name>.lock`
//! (beside the collection's directory, so archiving or deleting the directory leaves it alone) for
//! as long as the collection is open in it. The lock is `flock(2)` on Unix: it belongs to the open
//! file, so two engines of one process exclude each other too, and it is released when the file
//! is closed, even when the process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use qbench_vector_store::VectorStoreError;

use crate::error;

/// The suffix of a lock file; no collection name may end with it.
pub(crate) const LOCK_SUFFIX: &str = ".lock";

/// Opening a lock file that a dropping collection deletes at that moment is retried this often.
const ATTEMPTS: usize = 8;

/// The advisory lock of one collection, held until dropped.
#[derive(Debug)]
pub(crate) struct CollectionLock {
    file: File,
    path: PathBuf,
}

impl CollectionLock {
    /// The lock file of the collection `name` under `root`.
    pub(crate) fn file(root: &Path, name: &str) -> PathBuf {
        root.join(format!("{name}{LOCK_SUFFIX}"))
    }

    /// Takes the lock of the collection `name` under `root` without waiting, creating the root
    /// and the lock file when needed.
    ///
    /// # Errors
    /// `Rejected` when another engine (another process, or another engine of this one) holds it;
    /// `Internal` when the file cannot be opened or locked.
    pub(crate) fn acquire(root: &Path, name: &str) -> Result<Self, VectorStoreError> {
        std::fs::create_dir_all(root).map_err(|err| error::from_io(&format!("creating {}", root.display()), &err))?;
        let path = Self::file(root, name);
        for _ in 0..ATTEMPTS {
            let file = OpenOptions::new()
                .create(true)
                .read(true)
                .write(true)
                .truncate(false)
                .open(&path)
                .map_err(|err| error::from_io(&format!("opening {}", path.display()), &err))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(VectorStoreError::Rejected(format!(
                        "collection `{name}` is in use by another process"
                    )));
                }
                Err(TryLockError::Error(err)) => {
                    return Err(error::from_io(&format!("locking {}", path.display()), &err));
                }
            }
            // The holder of a dropped collection deletes its lock file while still holding it; a
            // lock taken on that deleted file would guard nothing, so it must still be the file
            // at `path`.
            if is_file_at(&file, &path) {
                return Ok(Self { file, path });
            }
        }
        Err(VectorStoreError::Internal(format!("the lock file {} kept being replaced", path.display())))
    }

    /// Deletes the lock file, then releases the lock: for a collection whose directory has been
    /// deleted. An engine that opened the file meanwhile finds it gone and takes a new one.
    pub(crate) fn remove(self) {
        if let Err(err) = std::fs::remove_file(&self.path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %err, "could not delete a collection's lock file");
        }
        drop(self.file);
    }
}

/// Whether `file` is the file `path` names now.
#[cfg(unix)]
fn is_file_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Whether `file` is the file `path` names now: elsewhere an open file cannot be deleted, so it is.
#[cfg(not(unix))]
fn is_file_at(_file: &File, path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_until_released_and_a_removed_one_is_taken_anew() {
        let root = tempfile::tempdir().unwrap();
        let held = CollectionLock::acquire(root.path(), "c").unwrap();
        let refused = CollectionLock::acquire(root.path(), "c");
        assert!(
            matches!(refused, Err(VectorStoreError::Rejected(ref message)) if message.contains("in use by another process")),
            "{refused:?}"
        );
        // Other collections are not affected.
        let _other = CollectionLock::acquire(root.path(), "d").unwrap();
        held.remove();
        assert!(!root.path().join("c.lock").exists());
        let _again = CollectionLock::acquire(root.path(), "c").unwrap();
        assert!(root.path().join("c.lock").is_file());
    }
}
