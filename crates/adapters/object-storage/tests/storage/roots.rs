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

#[tokio::test]
async fn paths_outside_every_root_are_refused_naming_the_path_and_the_roots() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    let outside = env.outside.join("secret.parquet");
    small_file(&outside);
    let root = env.root.display().to_string();
    let second = env.second.display().to_string();
    let outside_text = outside.display().to_string();

    assert_refused(inspect(&env.storage, &file_source(&outside), &schema).await, &[&outside_text, &root, &second]);
    assert_refused(inspect(&env.storage, &source("file:///etc/hostname"), &schema).await, &["/etc/hostname", &root]);
}

#[tokio::test]
async fn dot_dot_escapes_are_refused() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    small_file(&env.outside.join("secret.parquet"));
    let outside = env.outside.join("secret.parquet").display().to_string();

    assert_refused(
        inspect(&env.storage, &source("../outside/secret.parquet"), &schema).await,
        &["../outside/secret.parquet", &outside],
    );
    assert_refused(inspect(&env.storage, &source("a/../../outside/"), &schema).await, &["outside the data roots"]);
    let sneaky = format!("file://{}/../outside/secret.parquet", env.root.display());
    assert_refused(inspect(&env.storage, &source(&sneaky), &schema).await, &["outside the data roots", &outside]);
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

    let outside = env.outside.display().to_string();
    assert_refused(inspect(&env.storage, &source("link.parquet"), &schema).await, &["link.parquet", &outside]);
    assert_refused(inspect(&env.storage, &source("linkdir/"), &schema).await, &["linkdir", &outside]);
    assert_refused(inspect(&env.storage, &source("linkdir/train.parquet"), &schema).await, &[&outside]);
    assert_refused(inspect(&env.storage, &source("mixed"), &schema).await, &["mixed/train.parquet", &outside]);
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
