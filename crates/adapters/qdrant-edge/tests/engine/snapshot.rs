//! Snapshots and restores, collections opened lazily, and the lock that keeps a collection to one
//! engine at a time.

use std::path::Path;

use qbench_domain::{Distance, PointId};
use qbench_qdrant_edge::{EmbeddedEngine, SNAPSHOT_CHUNK_BYTES};
use qbench_vector_store::{Point, SearchParams, SearchRequest, SearchResponse, VectorStore, VectorStoreError};

use crate::support::{Data, K, exact, hnsw, load, name, spec, vector};

/// A collection of 4,000 points of 64 dimensions: its vectors alone take more than one chunk.
fn large(collection: &str) -> Data {
    Data::generate(&spec(collection, &[("text", vector(64, Distance::Cosine))], &[], None), 4_000, 20, 11)
}

fn small(collection: &str, rows: usize, seed: u64) -> Data {
    Data::generate(&spec(collection, &[("text", vector(8, Distance::Euclid))], &[], None), rows, 5, seed)
}

/// The directory holding a fresh root, and an engine on it. Bound in this order, the engine is
/// dropped (its collections flushed) before the directory is deleted.
fn engine() -> (tempfile::TempDir, EmbeddedEngine) {
    let dir = tempfile::tempdir().unwrap();
    let engine = EmbeddedEngine::new(dir.path().join("engine"));
    (dir, engine)
}

/// Every chunk of the snapshot of `collection`.
async fn snapshot(engine: &EmbeddedEngine, collection: &str) -> Vec<Vec<u8>> {
    let mut reader = engine.snapshot(collection).await.unwrap();
    let mut chunks = Vec::new();
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        chunks.push(chunk);
    }
    chunks
}

/// Restores `chunks` into `collection`: the points restored.
async fn restore(
    engine: &EmbeddedEngine,
    collection: &str,
    overwrite: bool,
    chunks: &[Vec<u8>],
) -> Result<u64, VectorStoreError> {
    let mut writer = engine.restore(collection, overwrite).await?;
    for chunk in chunks {
        writer.write(chunk).await?;
    }
    writer.finish().await
}

/// The ids and scores found in `collection` for every query of `data`'s vector `text`.
async fn results(
    engine: &EmbeddedEngine,
    collection: &str,
    data: &Data,
    params: &SearchParams,
) -> Vec<Vec<(PointId, f32)>> {
    let text = name("text");
    let mut found = Vec::new();
    for query in data.queries("text") {
        let request = SearchRequest { vector: &text, query, k: K, params };
        let response = engine.search(collection, request).await.unwrap();
        found.push(response.points.iter().map(|point| (point.id, point.score)).collect());
    }
    found
}

/// The exact answer to the first query of `data`'s vector `text` in `collection`.
async fn search_one(
    engine: &EmbeddedEngine,
    collection: &str,
    data: &Data,
) -> Result<SearchResponse, VectorStoreError> {
    let text = name("text");
    engine
        .search(collection, SearchRequest { vector: &text, query: data.queries("text")[0], k: K, params: &exact() })
        .await
}

/// The hidden scratch entries of restores under `root`.
fn scratch(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect()
}

fn is_rejected(result: &Result<impl std::fmt::Debug, VectorStoreError>, expected: &str) -> bool {
    matches!(result, Err(VectorStoreError::Rejected(message)) if message.contains(expected))
}

#[tokio::test]
async fn a_snapshot_restored_under_another_name_answers_like_the_original() {
    let (_dir, engine) = engine();
    let data = large("original");
    load(&engine, &data).await;

    let chunks = snapshot(&engine, "original").await;
    // Streamed: full chunks, then the rest.
    assert!(chunks.len() > 1, "{} chunk(s)", chunks.len());
    let (last, full) = chunks.split_last().unwrap();
    assert!(full.iter().all(|chunk| chunk.len() == SNAPSHOT_CHUNK_BYTES));
    assert!((1..=SNAPSHOT_CHUNK_BYTES).contains(&last.len()));

    // Qdrant's streamable shard snapshot: the shard's files, each segment's under `files/`.
    let archive = chunks.concat();
    let mut tar = tar::Archive::new(archive.as_slice());
    let paths: Vec<String> =
        tar.entries().unwrap().map(|entry| entry.unwrap().path().unwrap().display().to_string()).collect();
    assert!(paths.iter().any(|path| path == "edge_config.json"), "{paths:?}");
    assert!(paths.iter().any(|path| path.starts_with("wal/")), "{paths:?}");
    let segment_files: Vec<&String> = paths.iter().filter(|path| path.starts_with("segments/")).collect();
    assert!(segment_files.iter().any(|path| path.ends_with("/files/version.info")), "{segment_files:?}");
    assert!(
        segment_files.iter().all(|path| path.split('/').nth(2).is_none_or(|part| part.is_empty() || part == "files")),
        "a segment's file outside files/: {segment_files:?}"
    );

    assert_eq!(restore(&engine, "copy", false, &chunks).await.unwrap(), 4_000);
    let (original, copy) =
        (engine.collection_info("original").await.unwrap(), engine.collection_info("copy").await.unwrap());
    assert_eq!(
        (copy.points, copy.indexed_vectors, copy.segments),
        (4_000, original.indexed_vectors, original.segments)
    );
    for params in [exact(), hnsw(64)] {
        assert_eq!(
            results(&engine, "copy", &data, &params).await,
            results(&engine, "original", &data, &params).await,
            "{params:?}"
        );
    }
    assert_eq!(scratch(engine.root()), Vec::<String>::new());
    // The copy is a collection like any: it takes writes and is dropped with its files.
    engine.upsert("copy", &data.points()[..1]).await.unwrap();
    engine.drop_collection("copy").await.unwrap();
    assert!(!engine.collection_dir("copy").exists());
}

#[tokio::test]
async fn restoring_onto_a_collection_is_refused_without_overwrite_and_replaces_it_with() {
    let (_dir, engine) = engine();
    let (kept, other) = (small("kept", 100, 1), small("other", 200, 2));
    load(&engine, &kept).await;
    load(&engine, &other).await;
    let chunks = snapshot(&engine, "other").await;

    let refused = engine.restore("kept", false).await.map(drop);
    assert!(is_rejected(&refused, "collection `kept` already exists; pass overwrite"), "{refused:?}");
    assert_eq!(engine.collection_info("kept").await.unwrap().points, 100);

    assert_eq!(restore(&engine, "kept", true, &chunks).await.unwrap(), 200);
    assert_eq!(engine.collection_info("kept").await.unwrap().points, 200);
    assert_eq!(results(&engine, "kept", &other, &exact()).await, results(&engine, "other", &other, &exact()).await);
    assert_eq!(scratch(engine.root()), Vec::<String>::new());
}

#[tokio::test]
async fn a_damaged_archive_is_rejected_at_finish_and_changes_nothing() {
    let (_dir, engine) = engine();
    let data = small("source", 300, 3);
    load(&engine, &data).await;
    let archive = snapshot(&engine, "source").await.concat();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..4_096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    let damaged = [
        ("random bytes", noise),
        ("cut at a block", archive[..archive.len() / 1024 * 512].to_vec()),
        ("cut anywhere", archive[..archive.len() / 2 + 7].to_vec()),
        ("an empty tar", vec![0; 1024]),
    ];
    for (what, bytes) in damaged {
        let result = restore(&engine, "restored", false, std::slice::from_ref(&bytes)).await;
        assert!(is_rejected(&result, "not a Qdrant shard snapshot"), "{what}: {result:?}");
        assert!(!engine.collection_dir("restored").exists(), "{what}");
        assert!(matches!(engine.collection_info("restored").await, Err(VectorStoreError::CollectionNotFound(_))));
        // Replacing a collection with it leaves the collection as it was.
        let result = restore(&engine, "source", true, &[bytes]).await;
        assert!(is_rejected(&result, "not a Qdrant shard snapshot"), "{what}: {result:?}");
        assert_eq!(engine.collection_info("source").await.unwrap().points, 300, "{what}");
        assert_eq!(scratch(engine.root()), Vec::<String>::new(), "{what}");
    }
}

#[tokio::test]
async fn an_aborted_or_abandoned_restore_leaves_nothing() {
    let (_dir, engine) = engine();
    let data = small("source", 50, 4);
    load(&engine, &data).await;
    let chunks = snapshot(&engine, "source").await;

    let mut writer = engine.restore("aborted", false).await.unwrap();
    writer.write(&chunks[0]).await.unwrap();
    assert_eq!(scratch(engine.root()).len(), 1, "the archive is spooled under the root");
    writer.abort().await;
    assert_eq!(scratch(engine.root()), Vec::<String>::new());

    let mut writer = engine.restore("abandoned", false).await.unwrap();
    writer.write(&chunks[0]).await.unwrap();
    drop(writer);
    assert_eq!(scratch(engine.root()), Vec::<String>::new());
    for collection in ["aborted", "abandoned"] {
        assert!(!engine.collection_dir(collection).exists());
    }
}

#[tokio::test]
async fn a_collection_open_in_one_engine_is_refused_to_another_until_it_is_closed() {
    let (_dir, first) = engine();
    let data = small("shared", 100, 5);
    load(&first, &data).await;
    let chunks = snapshot(&first, "shared").await;
    let second = EmbeddedEngine::new(first.root());

    let in_use = "collection `shared` is in use by another process";
    let snapshot_refused = second.snapshot("shared").await.map(drop);
    assert!(is_rejected(&snapshot_refused, in_use), "{snapshot_refused:?}");
    assert!(is_rejected(&second.collection_info("shared").await, in_use));
    assert!(is_rejected(&second.drop_collection("shared").await, in_use));
    assert!(is_rejected(&restore(&second, "shared", true, &chunks).await, in_use));
    let other = small("shared", 1, 6);
    assert!(is_rejected(&second.create_collection(&other.spec).await, in_use));
    // Nothing of it was touched, and the refused restore left no scratch behind.
    assert_eq!(first.collection_info("shared").await.unwrap().points, 100);
    assert_eq!(scratch(first.root()), Vec::<String>::new());

    drop(first);
    let again = snapshot(&second, "shared").await;
    assert_eq!(restore(&second, "shared-copy", false, &again).await.unwrap(), 100);
    assert_eq!(second.collection_info("shared").await.unwrap().points, 100);
    let third = EmbeddedEngine::new(second.root());
    assert!(is_rejected(&search_one(&third, "shared", &data).await, in_use));
}

#[tokio::test]
async fn a_collection_left_on_disk_is_loaded_by_the_next_engine_and_answers_the_same() {
    let (_dir, first) = engine();
    let data = large("kept-run");
    load(&first, &data).await;
    let expected = results(&first, "kept-run", &data, &hnsw(64)).await;
    let root = first.root().to_owned();
    drop(first);

    let next = EmbeddedEngine::new(&root);
    // Listing does not load it...
    let listed = next.collections().await.unwrap();
    assert_eq!(
        listed.iter().map(|stats| (stats.name.as_str(), stats.info.is_some())).collect::<Vec<_>>(),
        [("kept-run", false)]
    );
    // ...and restoring over it needs overwrite, as for an open one.
    let refused = next.restore("kept-run", false).await.map(drop);
    assert!(is_rejected(&refused, "already exists"), "{refused:?}");
    // Any operation on it loads it, with the layout its configuration describes.
    assert_eq!(results(&next, "kept-run", &data, &hnsw(64)).await, expected);
    let info = next.collection_info("kept-run").await.unwrap();
    assert_eq!((info.points, info.indexed_vectors), (4_000, 4_000));
    assert!(info.storage.unwrap().vectors["text"].vectors.ram_bytes > 0, "vectors in RAM, as created");
    let wrong = SearchRequest { vector: &name("text"), query: &[0.0; 3], k: 1, params: &exact() };
    assert!(is_rejected(&next.search("kept-run", wrong).await, "expects 64"));
    assert!(next.collections().await.unwrap()[0].info.is_some());
    // A kept run's collection is snapshotted this way.
    assert_eq!(restore(&next, "from-kept", false, &snapshot(&next, "kept-run").await).await.unwrap(), 4_000);
    assert_eq!(results(&next, "from-kept", &data, &hnsw(64)).await, expected);
    // Dropping works on a collection never opened here, and a missing one is still not found.
    drop(next);
    let last = EmbeddedEngine::new(&root);
    last.drop_collection("kept-run").await.unwrap();
    assert!(!last.collection_dir("kept-run").exists());
    assert!(!root.join("kept-run.lock").exists());
    assert!(matches!(last.collection_info("kept-run").await, Err(VectorStoreError::CollectionNotFound(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_wait_for_the_snapshot_being_read_and_searches_do_not() {
    let (_dir, engine) = engine();
    let data = large("busy");
    load(&engine, &data).await;
    let engine = std::sync::Arc::new(engine);

    let mut reader = engine.snapshot("busy").await.unwrap();
    let mut chunks = vec![reader.next_chunk().await.unwrap().unwrap()];
    let late = Point {
        id: PointId::Num(1_000_000),
        vectors: vec![(name("text"), vec![0.5; 64])],
        payload: serde_json::Map::new(),
    };
    let writer = {
        let engine = engine.clone();
        tokio::spawn(async move { engine.upsert("busy", &[late]).await })
    };
    // Searches are answered while the archive is read.
    assert_eq!(search_one(&engine, "busy", &data).await.unwrap().points.len(), K as usize);
    assert!(!writer.is_finished());
    while let Some(chunk) = reader.next_chunk().await.unwrap() {
        chunks.push(chunk);
    }
    writer.await.unwrap().unwrap();
    assert_eq!(engine.collection_info("busy").await.unwrap().points, 4_001);
    // The archive holds the collection as it was when the snapshot started.
    assert_eq!(restore(&engine, "before", false, &chunks).await.unwrap(), 4_000);
}

#[tokio::test]
async fn a_dropped_snapshot_reader_releases_the_collection() {
    let (_dir, engine) = engine();
    let data = large("abandoned");
    load(&engine, &data).await;
    let mut reader = engine.snapshot("abandoned").await.unwrap();
    assert!(reader.next_chunk().await.unwrap().is_some());
    drop(reader);
    // Both need the archiving thread gone: a write, then closing the collection.
    engine.upsert("abandoned", &data.points()[..1]).await.unwrap();
    engine.drop_collection("abandoned").await.unwrap();
    assert!(!engine.collection_dir("abandoned").exists());
}

#[tokio::test]
async fn an_unknown_collection_cannot_be_snapshotted_and_a_bad_name_not_restored() {
    let (_dir, engine) = engine();
    assert!(matches!(engine.snapshot("nope").await.map(drop), Err(VectorStoreError::CollectionNotFound(_))));
    for bad in ["../escape", ".hidden", "x.lock"] {
        assert!(matches!(engine.restore(bad, true).await.map(drop), Err(VectorStoreError::Rejected(_))), "{bad}");
    }
}
