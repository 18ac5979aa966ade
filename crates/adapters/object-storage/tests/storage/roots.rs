//! Local paths stay inside the data roots: relative paths, `..`, symlinks, writing.

use std::os::unix::fs::symlink;

use qbench_storage::{DatasetPart, DatasetReader, DatasetWriter, StorageError};

use crate::support::{
    Element, Env, Layout, assert_refused, dataset, file_source, inspect, read_merged, rows, schema, source, vectors,
    write_parquet,
};

/// Writes a small valid file at `path`.
fn small_file(path: &std::path::Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_parquet(path, vec![("v", vectors(Element::F32, Layout::List, &rows(2, 2)))], 10);
}

#[tokio::test]
async fn relative_paths_resolve_against_the_first_root_and_absolute_ones_may_use_any_root() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    small_file(&env.root.join("a/first.parquet"));
    small_file(&env.second.join("b/second.parquet"));

    for uri in ["a/first.parquet", "file://a/first.parquet", "./a/../a/first.parquet"] {
        let batch = read_merged(&env.storage, &source(uri), &schema, DatasetPart::Train).await.unwrap();
        assert_eq!(batch.ids.len(), 2, "{uri}");
    }
    let error = inspect(&env.storage, &source("b/second.parquet"), &schema).await.unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "relative to the first root only: {error}");
    let inspection = inspect(&env.storage, &file_source(&env.second.join("b/second.parquet")), &schema).await.unwrap();
    assert_eq!(inspection.train_rows, 2);
}

/// Regression (issue 11): refusals listed the server's data roots and what a path resolved to.
#[tokio::test]
async fn error_messages_showed_absolute_server_paths_and_now_name_only_the_given_path() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    let outside = env.outside.join("secret.parquet");
    small_file(&outside);
    let root = env.root.display().to_string();
    let outside_text = outside.display().to_string();

    let message = |result: Result<qbench_storage::DatasetInspection, StorageError>| result.unwrap_err().to_string();
    let refused = message(inspect(&env.storage, &file_source(&outside), &schema).await);
    assert!(refused.contains(&outside_text) && refused.contains("outside the data roots"), "{refused}");
    assert!(!refused.contains(&root), "{refused}");
    let refused = message(inspect(&env.storage, &source("file:///etc/hostname"), &schema).await);
    assert!(refused.contains("/etc/hostname") && !refused.contains(&root), "{refused}");
    let refused = message(inspect(&env.storage, &source("../outside/secret.parquet"), &schema).await);
    assert!(refused.contains("../outside/secret.parquet") && !refused.contains(&outside_text), "{refused}");
}

/// Regression (issue 11): the reader opened the server's own `qbench.db` and `secret.key` (refused
/// only as a corrupt footer). qbench's state is refused by name, inside a data root or not.
#[tokio::test]
async fn qbench_state_inside_a_data_root_is_refused() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    std::fs::write(env.root.join("qbench.db"), b"SQLite format 3\0").unwrap();
    small_file(&env.root.join("engine/qbench-run/segment.parquet"));
    for uri in ["qbench.db", "file://qbench.db", "./engine/", "engine/qbench-run/segment.parquet", "engine/*.parquet"] {
        assert_refused(inspect(&env.storage, &source(uri), &schema).await, &["qbench's own state"]);
    }
    let linked = env.root.join("innocent.parquet");
    symlink(env.root.join("qbench.db"), &linked).unwrap();
    assert_refused(inspect(&env.storage, &source("innocent.parquet"), &schema).await, &["qbench's own state"]);
    assert_refused(env.storage.write_dataset(&source("engine/new"), &dataset(10, 2)).await, &["qbench's own state"]);
}

#[tokio::test]
async fn dot_dot_escapes_are_refused() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    small_file(&env.outside.join("secret.parquet"));
    assert_refused(
        inspect(&env.storage, &source("../outside/secret.parquet"), &schema).await,
        &["../outside/secret.parquet", "outside the data roots"],
    );
    assert_refused(inspect(&env.storage, &source("a/../../outside/"), &schema).await, &["outside the data roots"]);
    let sneaky = format!("file://{}/../outside/secret.parquet", env.root.display());
    assert_refused(inspect(&env.storage, &source(&sneaky), &schema).await, &["outside the data roots"]);
    assert_refused(
        env.storage.open_points(&source("../outside/*.parquet"), &schema, DatasetPart::Train, 10).await.map(drop),
        &["outside the data roots"],
    );
}

#[tokio::test]
async fn symlinks_out_of_the_roots_are_refused_and_symlinks_within_them_are_followed() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    small_file(&env.outside.join("data/train.parquet"));
    small_file(&env.outside.join("data/test.parquet"));

    // A file, a directory, and a shard inside a directory, each pointing out of the roots.
    symlink(env.outside.join("data/train.parquet"), env.root.join("link.parquet")).unwrap();
    symlink(env.outside.join("data"), env.root.join("linkdir")).unwrap();
    std::fs::create_dir(env.root.join("mixed")).unwrap();
    small_file(&env.root.join("mixed/test.parquet"));
    symlink(env.outside.join("data/train.parquet"), env.root.join("mixed/train.parquet")).unwrap();

    let outside = "outside the data roots";
    assert_refused(inspect(&env.storage, &source("link.parquet"), &schema).await, &["link.parquet", outside]);
    assert_refused(inspect(&env.storage, &source("linkdir/"), &schema).await, &["linkdir", outside]);
    assert_refused(inspect(&env.storage, &source("linkdir/train.parquet"), &schema).await, &[outside]);
    assert_refused(inspect(&env.storage, &source("mixed"), &schema).await, &["mixed/train.parquet", outside]);
    assert_refused(inspect(&env.storage, &source("mixed/*.parquet"), &schema).await, &["mixed/train.parquet"]);

    // Symlinks that stay inside the roots (even into the other root) are fine.
    small_file(&env.second.join("shared/points.parquet"));
    symlink(env.second.join("shared/points.parquet"), env.root.join("inside.parquet")).unwrap();
    let batch = read_merged(&env.storage, &source("inside.parquet"), &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(batch.ids.len(), 2);
}

#[tokio::test]
async fn writing_outside_the_roots_is_refused_and_creates_nothing() {
    let env = Env::new();
    let data = dataset(10, 2);
    assert_refused(
        env.storage.write_dataset(&source("../outside/generated/"), &data).await,
        &["outside the data roots"],
    );
    let target = file_source(&env.outside.join("generated"));
    assert_refused(env.storage.write_dataset(&target, &data).await, &["outside the data roots"]);
    symlink(&env.outside, env.root.join("escape")).unwrap();
    assert_refused(env.storage.write_dataset(&source("escape/generated"), &data).await, &["outside the data roots"]);
    assert!(!env.outside.join("generated").exists());

    // Inside a root, missing directories are created.
    env.storage.write_dataset(&source("new/deeper/set"), &data).await.unwrap();
    assert!(env.root.join("new/deeper/set/neighbors.parquet").is_file());
    assert_refused(env.storage.write_dataset(&source("new/deeper/set/train.parquet"), &data).await, &["directory"]);
}
