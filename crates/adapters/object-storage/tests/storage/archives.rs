//! Snapshot archives (`ArchiveStore`): streamed in and out of a local directory inside the data
//! roots and of an S3 prefix (a multipart upload), appearing only when finished.

use std::os::unix::fs::symlink;
use std::path::Path as FsPath;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{Attribute, ObjectStore, ObjectStoreExt};
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig};
use qbench_storage::{ArchiveStore, DatasetSource, StorageError};

use crate::s3::{bucket, s3, server};
use crate::support::{Env, assert_refused, file_source, s3_source, source};

/// 64 KiB, the size of each chunk written.
const CHUNK: usize = 64 << 10;

/// `count` chunks of [`CHUNK`] bytes, each different (so that a chunk lost, doubled or swapped
/// shows).
fn chunks(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|index| (0..CHUNK).map(|byte| (byte.wrapping_mul(31) ^ index.wrapping_mul(7)) as u8).collect())
        .collect()
}

/// Writes `chunks` as archive `name` of `repository` and finishes it; answers its location.
async fn store(storage: &dyn ArchiveStore, repository: &DatasetSource, name: &str, chunks: &[Vec<u8>]) -> String {
    let mut sink = storage.create_archive(repository, name).await.unwrap();
    for chunk in chunks {
        sink.write(chunk.clone()).await.unwrap();
    }
    sink.finish().await.unwrap()
}

/// Reads archive `name` of `repository` whole, checking that its size is announced.
async fn read(storage: &dyn ArchiveStore, repository: &DatasetSource, name: &str) -> Vec<u8> {
    let mut reader = storage.open_archive(repository, name).await.unwrap();
    let size = reader.size();
    let mut bytes = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        bytes.extend(chunk);
    }
    assert_eq!(bytes.len() as u64, size, "the size announced is the size read");
    bytes
}

/// The names in `dir`, sorted.
fn names(dir: &FsPath) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_local_archive_of_many_chunks_appears_only_when_finished_and_reads_back_identical() {
    let env = Env::new();
    let repository = source("snapshots/weekly");
    env.storage.check_repository(&repository).await.unwrap();
    let dir = env.root.join("snapshots/weekly");
    assert!(dir.is_dir(), "a missing repository directory is created");

    let chunks = chunks(80);
    let mut sink = env.storage.create_archive(&repository, "snap-1.tar").await.unwrap();
    for chunk in &chunks {
        sink.write(chunk.clone()).await.unwrap();
    }
    assert_eq!(names(&dir), [".snap-1.tar.partial"], "nothing appears before finish");
    let location = sink.finish().await.unwrap();
    assert_eq!(location, "snapshots/weekly/snap-1.tar", "shown relative to its data root");
    assert_eq!(names(&dir), ["snap-1.tar"]);

    let bytes = read(&env.storage, &repository, "snap-1.tar").await;
    assert_eq!(bytes.len(), 5 << 20);
    assert!(bytes == chunks.concat(), "the archive reads back identical");

    // The same directory named absolutely, with `file://`, reaches the same archive.
    let absolute = file_source(&dir);
    assert_eq!(read(&env.storage, &absolute, "snap-1.tar").await.len(), 5 << 20);
}

#[tokio::test]
async fn aborted_or_dropped_local_archives_leave_nothing_and_a_stale_partial_file_is_replaced() {
    let env = Env::new();
    let repository = source("snapshots");
    let dir = env.root.join("snapshots");

    let mut sink = env.storage.create_archive(&repository, "aborted.tar").await.unwrap();
    sink.write(vec![1; CHUNK]).await.unwrap();
    sink.abort().await;
    assert!(names(&dir).is_empty(), "abort removes the partial file: {:?}", names(&dir));

    let mut sink = env.storage.create_archive(&repository, "dropped.tar").await.unwrap();
    sink.write(vec![2; CHUNK]).await.unwrap();
    drop(sink);
    assert!(names(&dir).is_empty(), "dropping an unfinished archive removes it: {:?}", names(&dir));

    // A partial file left by a process that died mid-write does not survive the next write.
    std::fs::write(dir.join(".again.tar.partial"), b"left over").unwrap();
    let location = store(&env.storage, &repository, "again.tar", &[b"fresh".to_vec()]).await;
    assert_eq!(location, "snapshots/again.tar");
    assert_eq!(names(&dir), ["again.tar"]);
    assert_eq!(read(&env.storage, &repository, "again.tar").await, b"fresh");
}

#[tokio::test]
async fn repositories_outside_the_data_roots_are_refused_without_showing_a_server_path() {
    let env = Env::new();
    let root = env.root.display().to_string();
    symlink(&env.outside, env.root.join("escape")).unwrap();
    let outside = "outside the data roots";
    for repository in [source("../outside/snaps"), source("escape/snaps"), source("a/../../outside")] {
        let uri = repository.uri.as_str().to_owned();
        let refused = env.storage.check_repository(&repository).await.unwrap_err();
        assert!(matches!(refused, StorageError::Refused { .. }), "{uri}: {refused}");
        let message = refused.to_string();
        assert!(message.contains(outside) && !message.contains(&root), "{uri}: {message}");
        assert_refused(env.storage.create_archive(&repository, "x.tar").await.map(drop), &[outside]);
        assert_refused(env.storage.open_archive(&repository, "x.tar").await.map(drop), &[outside]);
        assert_refused(env.storage.delete_archive(&repository, "x.tar").await, &[outside]);
    }
    let absolute = file_source(&env.outside.join("snaps"));
    assert_refused(env.storage.check_repository(&absolute).await, &[outside]);
    assert!(names(&env.outside).is_empty(), "nothing was created outside the roots: {:?}", names(&env.outside));

    // An archive that is a symlink out of the roots is not read; qbench's own state is not written.
    std::fs::write(env.outside.join("secret"), b"secret").unwrap();
    std::fs::create_dir(env.root.join("snaps")).unwrap();
    symlink(env.outside.join("secret"), env.root.join("snaps/linked.tar")).unwrap();
    assert_refused(env.storage.open_archive(&source("snaps"), "linked.tar").await.map(drop), &[outside]);
    assert_refused(env.storage.check_repository(&source("engine/snaps")).await, &["qbench's own state"]);
    assert!(!env.root.join("engine").exists());
}

#[tokio::test]
async fn archive_names_that_are_not_one_plain_name_are_refused() {
    let env = Env::new();
    let repository = source("snapshots");
    for name in ["", ".", "..", "a/b", "../escape.tar", "a\\b", ".hidden.partial"] {
        let reason = "not usable as an archive name";
        assert_refused(env.storage.create_archive(&repository, name).await.map(drop), &[reason]);
        assert_refused(env.storage.open_archive(&repository, name).await.map(drop), &[reason]);
        assert_refused(env.storage.delete_archive(&repository, name).await, &[reason]);
    }
    assert!(!env.root.join("snapshots").exists(), "nothing was created");
}

#[tokio::test]
async fn missing_archives_are_not_found_and_deleting_twice_succeeds() {
    let env = Env::new();
    let repository = source("snapshots");
    let missing = env.storage.open_archive(&repository, "never.tar").await.map(drop).unwrap_err();
    assert!(matches!(&missing, StorageError::NotFound { location } if location == "snapshots/never.tar"), "{missing}");

    store(&env.storage, &repository, "gone.tar", &[vec![7; 10]]).await;
    env.storage.delete_archive(&repository, "gone.tar").await.unwrap();
    assert!(!env.root.join("snapshots/gone.tar").exists());
    env.storage.delete_archive(&repository, "gone.tar").await.unwrap();
    env.storage.delete_archive(&source("no/such/directory"), "gone.tar").await.unwrap();
    let error = env.storage.open_archive(&repository, "gone.tar").await.map(drop).unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
}

#[tokio::test]
async fn a_per_user_repository_is_created_inside_its_owners_area_and_cannot_leave_it() {
    let env = Env::new();
    let area = |uri: &str| DatasetSource { local_area: Some("alice".to_owned()), ..source(uri) };
    env.storage.check_repository(&area("snaps")).await.unwrap();
    assert!(env.root.join("alice/snaps").is_dir(), "the area and the directory are created");
    let location = store(&env.storage, &area("snaps"), "a.tar", &[b"mine".to_vec()]).await;
    assert_eq!(location, "snaps/a.tar", "shown relative to the owner's area");
    assert_eq!(std::fs::read(env.root.join("alice/snaps/a.tar")).unwrap(), b"mine");

    std::fs::create_dir_all(env.root.join("bob")).unwrap();
    assert_refused(env.storage.check_repository(&area("../bob/snaps")).await, &["owner's own area"]);
    assert!(!env.root.join("bob/snaps").exists());
}

#[tokio::test]
async fn files_other_schemes_and_disabled_local_paths_are_refused_as_repositories() {
    let env = Env::new();
    assert_refused(env.storage.check_repository(&source("https://example.org/snaps/")).await, &["s3://"]);
    std::fs::write(env.root.join("plain"), b"a file").unwrap();
    assert_refused(env.storage.check_repository(&source("plain")).await, &["plain", "not a directory"]);
    let no_roots = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    assert_refused(no_roots.check_repository(&source("snaps")).await, &["no data roots"]);
}

/// A client of the test server's bucket, to look at what the adapter stored.
fn client(bucket: &str) -> Arc<dyn ObjectStore> {
    let server = server();
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(server.endpoint())
            .with_allow_http(true)
            .with_region(server.region())
            .with_bucket_name(bucket)
            .with_access_key_id(server.access_key())
            .with_secret_access_key(server.secret_key())
            .build()
            .unwrap(),
    )
}

/// How many multipart uploads of `bucket` are under way, as SeaweedFS's filer lists them (S3's
/// own listing of objects never shows them).
async fn uploads(bucket: &str) -> usize {
    let url = format!("{}/buckets/{bucket}/.uploads/", server().filer_endpoint());
    let answer = reqwest::Client::new().get(&url).header("Accept", "application/json").send().await.unwrap();
    let listing: serde_json::Value = serde_json::from_str(&answer.text().await.unwrap()).unwrap();
    listing["Entries"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn an_s3_archive_is_uploaded_in_parts_and_reads_back_identical() {
    let bucket = bucket();
    let storage = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    let repository = s3(&format!("s3://{bucket}/snapshots/"));
    storage.check_repository(&repository).await.unwrap();

    // 20 MiB: more than one 16 MiB part.
    let chunks = chunks(320);
    let location = store(&storage, &repository, "snap-1.tar", &chunks).await;
    assert_eq!(location, format!("s3://{bucket}/snapshots/snap-1.tar"));
    let bytes = read(&storage, &repository, "snap-1.tar").await;
    assert!(bytes == chunks.concat(), "the archive reads back identical ({} bytes)", bytes.len());

    let stored = client(&bucket).get(&Path::from("snapshots/snap-1.tar")).await.unwrap();
    let etag = stored.meta.e_tag.clone().unwrap_or_default();
    assert!(etag.trim_matches('"').ends_with("-2"), "a multipart upload of two parts: ETag {etag}");
    assert_eq!(uploads(&bucket).await, 0, "the upload is complete");
    assert_eq!(stored.attributes.get(&Attribute::ContentType).map(|value| value.as_ref()), Some("application/x-tar"));

    let missing = storage.open_archive(&repository, "never.tar").await.map(drop).unwrap_err();
    let expected = format!("s3://{bucket}/snapshots/never.tar");
    assert!(matches!(&missing, StorageError::NotFound { location } if *location == expected), "{missing}");
    storage.delete_archive(&repository, "snap-1.tar").await.unwrap();
    storage.delete_archive(&repository, "snap-1.tar").await.unwrap();
    let error = storage.open_archive(&repository, "snap-1.tar").await.map(drop).unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
}

#[tokio::test]
async fn an_aborted_s3_archive_leaves_nothing_and_bad_repositories_are_refused() {
    let bucket = bucket();
    let storage = ParquetStorage::new(ParquetStorageConfig::default()).unwrap();
    let repository = s3(&format!("s3://{bucket}/snapshots"));

    // 17 MiB: one part is sent before the abort.
    let mut sink = storage.create_archive(&repository, "aborted.tar").await.unwrap();
    for chunk in chunks(272) {
        sink.write(chunk).await.unwrap();
    }
    assert_eq!(uploads(&bucket).await, 1, "the upload is under way");
    sink.abort().await;
    assert_eq!(uploads(&bucket).await, 0, "abort ends the multipart upload and drops its parts");
    let error = storage.open_archive(&repository, "aborted.tar").await.map(drop).unwrap_err();
    assert!(matches!(error, StorageError::NotFound { .. }), "{error}");
    let listed: Vec<_> = futures::StreamExt::collect::<Vec<_>>(client(&bucket).list(None)).await;
    assert!(listed.is_empty(), "nothing is left in the bucket: {listed:?}");

    let server = server();
    let wrong = s3_source(&format!("s3://{bucket}/snapshots"), &server.endpoint(), server.access_key(), "wrong");
    let error = storage.check_repository(&wrong).await.unwrap_err();
    assert!(matches!(error, StorageError::Refused { .. }), "{error}");
    assert!(!error.to_string().contains(server.secret_key()), "{error}");
    let missing = s3("s3://no-such-bucket-qbench/snapshots");
    assert_refused(storage.check_repository(&missing).await, &["the bucket does not exist"]);
    assert_refused(storage.create_archive(&repository, "a/b.tar").await.map(drop), &["not usable as an archive name"]);
}
