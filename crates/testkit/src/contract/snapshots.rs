//! Contract checks of `SnapshotRepository`.

use std::cmp::Reverse;

use chrono::{DateTime, Duration, Utc};
use qbench_domain::{
    ConnectionId, JobId, RunId, Snapshot, SnapshotArchive, SnapshotId, SnapshotSpec, SnapshotStatus, SnapshotVault,
    run_collection,
};
use qbench_repository::{Entity, Listed, Page, SnapshotFilter};
use serde_json::json;
use uuid::Uuid;

use super::RepositoryUnderTest;
use super::fixtures::{OWNER, assert_in_use, assert_not_found, connection, far_future, now, ok, storage, unique};

/// A `CREATING` snapshot of `collection` on `connection_id` into a directory, asked for at `at`.
fn snapshot(connection_id: ConnectionId, collection: &str, at: DateTime<Utc>) -> Snapshot {
    let spec = SnapshotSpec {
        connection_id,
        collection: collection.to_owned(),
        vault: SnapshotVault::Directory { path: format!("snapshots/{}", unique("dir")) },
    };
    Snapshot::new(spec, OWNER, JobId::new(), at)
}

/// The archive of `snapshot`, with sizes past 32 bits and the engine's configuration as nested
/// JSON.
fn archive(snapshot: &Snapshot) -> SnapshotArchive {
    SnapshotArchive {
        object: snapshot.object_name(),
        bytes: 7_516_192_768_123,
        sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_owned(),
        points: 10_000_000_000,
        collection_config: json!({
            "params": {
                "vectors": {"dense": {"size": 768, "distance": "Cosine", "on_disk": true}},
                "shard_number": 1,
                "sparse_vectors": null
            },
            "hnsw_config": {"m": 32, "ef_construct": 200, "full_scan_threshold": 10000},
            "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99, "always_ram": true}},
            "payload_schema": [],
        }),
    }
}

fn page(offset: u64, limit: u64) -> Page {
    Page { limit, offset }
}

fn ids(listed: &Listed<Snapshot>) -> Vec<Uuid> {
    listed.items.iter().map(|s| s.id.as_uuid()).collect()
}

/// A snapshot reads back as written, every field included: a ready one of a run's collection
/// into a storage with its archive, a new one into a directory, a failed one with its error.
pub async fn check_snapshot_round_trip(repos: &RepositoryUnderTest) {
    let engine = connection();
    ok(repos.connections.insert(&engine).await, "insert connection");
    let bucket = storage(true);
    ok(repos.storages.insert(&bucket).await, "insert storage");
    let start = now();

    let run = RunId::new();
    let mut ready = snapshot(engine.id, &run_collection(run), start);
    assert_eq!(ready.built_by, Some(run), "a run's collection names its run");
    ready.owner = unique("owner");
    ready.spec.vault = SnapshotVault::Storage { storage_id: bucket.id, prefix: "qbench/snapshots".to_owned() };
    ready.ready(archive(&ready), start + Duration::milliseconds(1_250));
    ok(repos.snapshots.insert(&ready).await, "insert ready snapshot");
    assert_eq!(ok(repos.snapshots.get(ready.id).await, "get ready snapshot"), ready, "ready, into a storage");

    let mut at_root = snapshot(engine.id, &unique("collection"), start);
    at_root.spec.vault = SnapshotVault::Storage { storage_id: bucket.id, prefix: String::new() };
    ok(repos.snapshots.insert(&at_root).await, "insert snapshot into a bucket's root");
    assert_eq!(ok(repos.snapshots.get(at_root.id).await, "get snapshot"), at_root, "into a bucket's root");

    let creating = snapshot(engine.id, &unique("collection"), start);
    assert_eq!((creating.built_by, creating.archive.as_ref()), (None, None), "a new snapshot of another collection");
    ok(repos.snapshots.insert(&creating).await, "insert new snapshot");
    assert_eq!(ok(repos.snapshots.get(creating.id).await, "get new snapshot"), creating, "new, into a directory");

    let mut failed = snapshot(engine.id, &unique("collection"), start);
    failed.fail("qdrant answered 503: snapshot creation timed out", start + Duration::microseconds(7));
    ok(repos.snapshots.insert(&failed).await, "insert failed snapshot");
    assert_eq!(ok(repos.snapshots.get(failed.id).await, "get failed snapshot"), failed, "failed, with its error");
}

/// Unknown ids are `NotFound` on get, update and delete; a snapshot of a connection that does not
/// exist is refused naming the connection, and nothing is stored; a deleted snapshot is gone.
pub async fn check_snapshot_unknown_ids_and_missing_connection(repos: &RepositoryUnderTest) {
    let missing = ConnectionId::new();
    let orphan = snapshot(missing, &unique("collection"), now());
    assert_not_found(repos.snapshots.insert(&orphan).await, Entity::Connection, missing, "missing connection");
    assert_not_found(repos.snapshots.get(orphan.id).await, Entity::Snapshot, orphan.id, "refused snapshot");

    let unknown = SnapshotId::new();
    assert_not_found(repos.snapshots.get(unknown).await, Entity::Snapshot, unknown, "get unknown");
    let engine = connection();
    ok(repos.connections.insert(&engine).await, "insert connection");
    let mut ghost = snapshot(engine.id, &unique("collection"), now());
    ghost.id = unknown;
    ghost.fail("never stored", now());
    assert_not_found(repos.snapshots.update(&ghost).await, Entity::Snapshot, unknown, "update unknown");
    assert_not_found(repos.snapshots.delete(unknown).await, Entity::Snapshot, unknown, "delete unknown");

    let stored = snapshot(engine.id, &unique("collection"), now());
    ok(repos.snapshots.insert(&stored).await, "insert snapshot");
    ok(repos.snapshots.delete(stored.id).await, "delete snapshot");
    assert_not_found(repos.snapshots.get(stored.id).await, Entity::Snapshot, stored.id, "get deleted");
    assert_not_found(repos.snapshots.delete(stored.id).await, Entity::Snapshot, stored.id, "delete twice");
    ok(repos.connections.delete(engine.id).await, "a connection whose snapshots are deleted can go");
}

/// A connection that snapshots name cannot be deleted (`InUse` counts them and names the oldest);
/// once they are deleted, it can.
pub async fn check_snapshots_block_connection_delete(repos: &RepositoryUnderTest) {
    let engine = connection();
    ok(repos.connections.insert(&engine).await, "insert connection");
    let start = now();
    let newer = snapshot(engine.id, &unique("collection"), start + Duration::seconds(1));
    let older = snapshot(engine.id, &unique("collection"), start);
    for user in [&newer, &older] {
        ok(repos.snapshots.insert(user).await, "insert snapshot");
    }

    let refused = repos.connections.delete(engine.id).await;
    assert_in_use(refused, (Entity::Connection, engine.id), Entity::Snapshot, 2, older.id, "connection");
    ok(repos.connections.get(engine.id).await, "a refused delete keeps the connection");
    ok(repos.snapshots.get(older.id).await, "a refused delete keeps the snapshots");

    for user in [&newer, &older] {
        ok(repos.snapshots.delete(user.id).await, "delete snapshot");
    }
    ok(repos.connections.delete(engine.id).await, "delete the connection no snapshot names");
    assert_not_found(repos.connections.get(engine.id).await, Entity::Connection, engine.id, "deleted connection");
}

/// A storage holding a snapshot's archive cannot be deleted (the archive would lose its
/// credentials) until the snapshot is; a directory snapshot names no storage.
pub async fn check_snapshots_block_storage_delete(repos: &RepositoryUnderTest) {
    let engine = connection();
    ok(repos.connections.insert(&engine).await, "insert connection");
    let bucket = super::fixtures::storage(false);
    ok(repos.storages.insert(&bucket).await, "insert storage");
    let mut kept = snapshot(engine.id, &unique("collection"), now());
    kept.spec.vault = SnapshotVault::Storage { storage_id: bucket.id, prefix: "kept".to_owned() };
    let elsewhere = snapshot(engine.id, &unique("collection"), now());
    for user in [&kept, &elsewhere] {
        ok(repos.snapshots.insert(user).await, "insert snapshot");
    }

    let refused = repos.storages.delete(bucket.id).await;
    assert_in_use(refused, (Entity::Storage, bucket.id), Entity::Snapshot, 1, kept.id, "storage");
    ok(repos.storages.get(bucket.id).await, "a refused delete keeps the storage");

    ok(repos.snapshots.delete(kept.id).await, "delete the snapshot kept in it");
    ok(repos.storages.delete(bucket.id).await, "delete the storage no snapshot lives in");
    ok(repos.snapshots.delete(elsewhere.id).await, "delete snapshot");
    ok(repos.connections.delete(engine.id).await, "delete connection");
}

/// Snapshots list newest first (ties by id, descending), filtered by connection, collection,
/// status and owner in any combination, page by page, with the size of the filtered set as
/// `total`.
pub async fn check_snapshot_lists_newest_first_with_filters(repos: &RepositoryUnderTest) {
    let (first, second) = (connection(), connection());
    for engine in [&first, &second] {
        ok(repos.connections.insert(engine).await, "insert connection");
    }
    let (ann, bob, nobody) = (unique("ann"), unique("bob"), unique("nobody"));
    let (docs, images) = (unique("docs"), unique("images"));
    // After anything stored before (by other checks, or by this one on an earlier pass over the
    // same database), so these are the newest of the whole list.
    let newest = ok(repos.snapshots.list(SnapshotFilter::default(), page(0, 1)).await, "list snapshots");
    let base = newest.items.first().map_or(far_future(), |s| far_future().max(s.created_at + Duration::minutes(1)));
    let plan = [
        (&first, &docs, &ann, SnapshotStatus::Creating, Duration::zero()),
        (&first, &docs, &bob, SnapshotStatus::Ready, Duration::milliseconds(1)),
        (&first, &images, &ann, SnapshotStatus::Ready, Duration::seconds(1)),
        (&first, &images, &ann, SnapshotStatus::Failed, Duration::seconds(1)),
        (&second, &docs, &ann, SnapshotStatus::Ready, Duration::microseconds(1_000_001)),
    ];
    let mut stored = Vec::new();
    for (engine, collection, owner, status, offset) in plan {
        let at = base + offset;
        let mut item = snapshot(engine.id, collection, at);
        item.owner = owner.clone();
        match status {
            SnapshotStatus::Creating => {}
            SnapshotStatus::Ready => item.ready(archive(&item), at),
            SnapshotStatus::Failed => item.fail("cancelled", at),
        }
        ok(repos.snapshots.insert(&item).await, "insert snapshot");
        stored.push(item);
    }
    stored.sort_by_key(|s| Reverse((s.created_at, s.id)));
    let expected = |keep: &dyn Fn(&Snapshot) -> bool| -> Vec<Uuid> {
        stored.iter().filter(|s| keep(s)).map(|s| s.id.as_uuid()).collect()
    };
    let list = async |filter: SnapshotFilter, page: Page| ok(repos.snapshots.list(filter, page).await, "list");

    let of_first = SnapshotFilter { connection_id: Some(first.id), ..SnapshotFilter::default() };
    let all = list(of_first.clone(), page(0, 10)).await;
    let newest_first = expected(&|s| s.spec.connection_id == first.id);
    assert_eq!((ids(&all), all.total), (newest_first.clone(), 4), "the connection's snapshots, newest first");
    assert_eq!(all.items, stored.iter().filter(|s| s.spec.connection_id == first.id).cloned().collect::<Vec<_>>());
    let middle = list(of_first.clone(), page(1, 2)).await;
    assert_eq!((ids(&middle), middle.total), (newest_first[1..3].to_vec(), 4), "second and third snapshot");
    let beyond = list(of_first, page(4, 2)).await;
    assert_eq!((beyond.items.len(), beyond.total), (0, 4), "a page past the end is empty");

    let docs_of_first =
        SnapshotFilter { connection_id: Some(first.id), collection: Some(docs.clone()), ..SnapshotFilter::default() };
    let listed = list(docs_of_first, page(0, 10)).await;
    let want = expected(&|s| s.spec.connection_id == first.id && s.spec.collection == docs);
    assert_eq!((ids(&listed), listed.total), (want, 2), "one collection of one connection");

    let docs_anywhere = SnapshotFilter { collection: Some(docs.clone()), ..SnapshotFilter::default() };
    let listed = list(docs_anywhere, page(0, 10)).await;
    assert_eq!((ids(&listed), listed.total), (expected(&|s| s.spec.collection == docs), 3), "a collection's name");

    let ready_of_first = SnapshotFilter {
        connection_id: Some(first.id),
        status: Some(SnapshotStatus::Ready),
        ..SnapshotFilter::default()
    };
    let listed = list(ready_of_first, page(0, 10)).await;
    let want = expected(&|s| s.spec.connection_id == first.id && s.status == SnapshotStatus::Ready);
    assert_eq!((ids(&listed), listed.total), (want, 2), "ready snapshots of one connection");

    let of_ann = SnapshotFilter { owner: Some(ann.clone()), ..SnapshotFilter::default() };
    let listed = list(of_ann, page(0, 10)).await;
    assert_eq!((ids(&listed), listed.total), (expected(&|s| s.owner == ann), 4), "ann's snapshots");
    let ready_of_ann =
        SnapshotFilter { owner: Some(ann.clone()), status: Some(SnapshotStatus::Ready), ..SnapshotFilter::default() };
    let listed = list(ready_of_ann, page(1, 1)).await;
    let want = expected(&|s| s.owner == ann && s.status == SnapshotStatus::Ready);
    assert_eq!((ids(&listed), listed.total), (want[1..].to_vec(), 2), "the second page of ann's ready snapshots");

    let every_filter = SnapshotFilter {
        connection_id: Some(first.id),
        collection: Some(images.clone()),
        status: Some(SnapshotStatus::Failed),
        owner: Some(ann.clone()),
    };
    let listed = list(every_filter, page(0, 10)).await;
    let want = expected(&|s| s.spec.collection == images && s.status == SnapshotStatus::Failed);
    assert_eq!((ids(&listed), listed.total), (want, 1), "every filter at once");
    let of_bob_on_second =
        SnapshotFilter { connection_id: Some(second.id), owner: Some(bob), ..SnapshotFilter::default() };
    let listed = list(of_bob_on_second, page(0, 10)).await;
    assert_eq!((listed.items.len(), listed.total), (0, 0), "filters combine with AND");
    let of_nobody = SnapshotFilter { owner: Some(nobody), ..SnapshotFilter::default() };
    let listed = list(of_nobody, page(0, 10)).await;
    assert_eq!((listed.items.len(), listed.total), (0, 0), "a user without snapshots has none");

    // Without a connection, collection or owner, other checks' snapshots count too, but these
    // are the newest.
    let ready = SnapshotFilter { status: Some(SnapshotStatus::Ready), ..SnapshotFilter::default() };
    let listed = list(ready.clone(), page(0, 3)).await;
    assert_eq!(ids(&listed), expected(&|s| s.status == SnapshotStatus::Ready), "the newest ready snapshots first");
    let everything = list(ready, page(0, Page::MAX_LIMIT)).await;
    assert!(everything.items.iter().all(|s| s.status == SnapshotStatus::Ready), "the status filter applies");
    assert_eq!(everything.total, listed.total, "total is the size of the filtered set");
    let newest = list(SnapshotFilter::default(), page(0, 5)).await;
    assert_eq!(ids(&newest), expected(&|_| true), "unfiltered, the newest snapshots come first");
    assert!(newest.total >= everything.total + 2, "total counts every snapshot");
}

/// An update replaces status, archive, error and `updated_at`: a snapshot becomes ready with its
/// archive, and a failure drops the archive and records why; lists see the new status.
pub async fn check_snapshot_update_replaces_its_life(repos: &RepositoryUnderTest) {
    let engine = connection();
    ok(repos.connections.insert(&engine).await, "insert connection");
    let start = now();
    let mut stored = snapshot(engine.id, &run_collection(RunId::new()), start);
    ok(repos.snapshots.insert(&stored).await, "insert snapshot");

    let archived = archive(&stored);
    stored.ready(archived, start + Duration::seconds(42));
    ok(repos.snapshots.update(&stored).await, "CREATING -> READY");
    assert_eq!(ok(repos.snapshots.get(stored.id).await, "get snapshot"), stored, "ready, with its archive");

    stored.fail("the archive's checksum no longer matches", start + Duration::milliseconds(43_500));
    ok(repos.snapshots.update(&stored).await, "READY -> FAILED");
    let read = ok(repos.snapshots.get(stored.id).await, "get snapshot");
    assert_eq!(read, stored, "failed, without archive, with its error");
    assert_eq!((read.archive, read.status), (None, SnapshotStatus::Failed), "the archive is gone");

    let of_engine =
        |status| SnapshotFilter { connection_id: Some(engine.id), status: Some(status), ..SnapshotFilter::default() };
    let failed = ok(repos.snapshots.list(of_engine(SnapshotStatus::Failed), page(0, 10)).await, "list failed");
    assert_eq!((ids(&failed), failed.total), (vec![stored.id.as_uuid()], 1), "lists see the new status");
    let creating = ok(repos.snapshots.list(of_engine(SnapshotStatus::Creating), page(0, 10)).await, "list new");
    assert_eq!((creating.items.len(), creating.total), (0, 0), "and not the old one");
}
