//! Contract checks of `BackfillRepository`.

use chrono::Duration;
use qbench_domain::backfill::{PlanFile, WorkItem, WorkItemCounts, WorkItemStatus, plan_items};
use qbench_domain::{ConnectionId, JobId};
use qbench_repository::{Entity, Page, RepositoryError};

use super::RepositoryUnderTest;
use super::fixtures::{assert_not_found, err, now, ok, unique};

/// The planned items of a new backfill into `collection` of `connection_id`: files `a` (three
/// items), `b` (one) and `c` (one, the version unknown), sizes and row numbers past 32 bits.
fn planned(connection_id: ConnectionId, collection: &str) -> Vec<WorkItem> {
    let file = |name: &str, version: Option<&str>, groups: &[u64]| PlanFile {
        location: format!("s3://datasets/{collection}/{name}.parquet"),
        bytes: 9_000_000_000 + groups.len() as u64,
        version: version.map(str::to_owned),
        row_group_rows: groups.to_vec(),
    };
    let files = [
        file("a", Some("\"9f86d081884c7d659a2feaa0c55ad015\""), &[3_000_000_000, 3_000_000_000, 5]),
        file("b", Some("2026-12-05T21:00:07.123456Z"), &[70]),
        file("c", None, &[2]),
    ];
    plan_items(JobId::new(), (connection_id, collection), &files, &Default::default(), 100, now())
}

fn page(offset: u64, limit: u64) -> Page {
    Page { limit, offset }
}

fn ordinals(items: &[WorkItem]) -> Vec<u32> {
    items.iter().map(|item| item.ordinal).collect()
}

/// Planned items read back as planned, in plan order, page by page and filtered by status; their
/// counts add up; a backfill is planned once; another backfill's items are its own.
pub async fn check_backfill_items_round_trip(repos: &RepositoryUnderTest) {
    let items = planned(ConnectionId::new(), &unique("qbench-docs"));
    assert_eq!(items.len(), 5, "the fixture plans five items");
    let id = items[0].backfill_id;
    ok(repos.backfills.plan(id, &items).await, "plan");
    let all = ok(repos.backfills.items(id, None, Page::default()).await, "items");
    assert_eq!((all.items.as_slice(), all.total), (items.as_slice(), 5), "every field as planned, in order");
    let second = ok(repos.backfills.items(id, None, page(1, 2)).await, "second page");
    assert_eq!((ordinals(&second.items), second.total), (vec![1, 2], 5), "a page of two after the first");

    let error = err(repos.backfills.plan(id, &items[..1]).await, "plan twice");
    assert!(
        matches!(&error, RepositoryError::Duplicate { entity: Entity::Backfill, field: "backfill_id", value } if *value == id.to_string()),
        "{error:?}"
    );
    assert_eq!(ok(repos.backfills.items(id, None, Page::default()).await, "items").total, 5, "nothing added");

    let other = JobId::new();
    assert_eq!(ok(repos.backfills.items(other, None, Page::default()).await, "unplanned").total, 0);
    assert_eq!(ok(repos.backfills.counts(other).await, "unplanned counts"), WorkItemCounts::default());

    // Their life: one done, one failed, one running.
    let later = now() + Duration::microseconds(1_500_001);
    let mut done = items[1].clone();
    done.start(later);
    done.done(2_999_999_999, later);
    let mut failed = items[3].clone();
    for _ in 0..3 {
        failed.start(later);
    }
    failed.fail("s3://datasets/b.parquet: unreachable: connection reset by peer ".repeat(40), later);
    let mut running = items[4].clone();
    running.start(later);
    running.retry("vector database unreachable: timed out", later);
    running.start(later);
    for item in [&done, &failed, &running] {
        ok(repos.backfills.update(item).await, "update");
    }
    let all = ok(repos.backfills.items(id, None, Page::default()).await, "items");
    assert_eq!(all.items, [items[0].clone(), done.clone(), items[2].clone(), failed.clone(), running.clone()]);
    let only_done = ok(repos.backfills.items(id, Some(WorkItemStatus::Done), Page::default()).await, "done");
    assert_eq!((only_done.items, only_done.total), (vec![done.clone()], 1));
    let pending = ok(repos.backfills.items(id, Some(WorkItemStatus::Pending), page(1, 10)).await, "pending");
    assert_eq!((ordinals(&pending.items), pending.total), (vec![2], 2), "the second page of the pending items");
    let rows: u64 = items.iter().map(|item| item.rows).sum();
    assert_eq!(
        ok(repos.backfills.counts(id).await, "counts"),
        WorkItemCounts { pending: 2, running: 1, done: 1, failed: 1, rows, points: 2_999_999_999 }
    );

    let mut ghost = items[0].clone();
    ghost.backfill_id = other;
    let ghost_id = format!("{other} item 0");
    assert_not_found(repos.backfills.update(&ghost).await, Entity::Backfill, ghost_id, "update an unplanned item");
}

/// Requeueing puts the running items of one backfill back to pending, and no other's.
pub async fn check_backfill_running_items_are_requeued(repos: &RepositoryUnderTest) {
    let connection_id = ConnectionId::new();
    let collection = unique("qbench-docs");
    let (first, second) = (planned(connection_id, &collection), planned(connection_id, &collection));
    let at = now();
    for items in [&first, &second] {
        ok(repos.backfills.plan(items[0].backfill_id, items).await, "plan");
        for item in &items[..2] {
            let mut running = item.clone();
            running.start(at);
            ok(repos.backfills.update(&running).await, "start");
        }
    }
    let later = at + Duration::seconds(30);
    assert_eq!(ok(repos.backfills.requeue_running(first[0].backfill_id, later).await, "requeue"), 2);
    let requeued = ok(repos.backfills.items(first[0].backfill_id, None, page(0, 2)).await, "items").items;
    assert!(requeued.iter().all(|item| item.status == WorkItemStatus::Pending && item.updated_at == later));
    assert!(requeued.iter().all(|item| item.attempts == 1), "the attempt is kept");
    assert_eq!(ok(repos.backfills.requeue_running(first[0].backfill_id, later).await, "again"), 0);
    let untouched = ok(repos.backfills.counts(second[0].backfill_id).await, "other backfill");
    assert_eq!(untouched.running, 2, "another backfill's items are its own");
}

/// The loaded keys of a collection are the `DONE` items of every backfill into it, and only those.
pub async fn check_backfill_loaded_keys_are_the_done_items_of_the_collection(repos: &RepositoryUnderTest) {
    let connection_id = ConnectionId::new();
    let collection = unique("qbench-docs");
    let at = now();
    let mut expected = Vec::new();
    for (items, done) in [(planned(connection_id, &collection), 0..2), (planned(connection_id, &collection), 4..5)] {
        ok(repos.backfills.plan(items[0].backfill_id, &items).await, "plan");
        for mut item in items[done].iter().cloned() {
            item.start(at);
            item.done(item.rows, at);
            ok(repos.backfills.update(&item).await, "done");
            expected.push(item.key());
        }
        let mut failed = items[2].clone();
        failed.fail("broken", at);
        ok(repos.backfills.update(&failed).await, "failed");
    }
    // The same collection name on another engine, and another collection on this one.
    for (connection, name) in [(ConnectionId::new(), collection.clone()), (connection_id, unique("qbench-other"))] {
        let items = planned(connection, &name);
        ok(repos.backfills.plan(items[0].backfill_id, &items).await, "plan elsewhere");
        let mut item = items[3].clone();
        item.done(item.rows, at);
        ok(repos.backfills.update(&item).await, "done elsewhere");
    }
    let mut loaded = ok(repos.backfills.loaded(connection_id, &collection).await, "loaded");
    let sort = |keys: &mut Vec<qbench_domain::backfill::ItemKey>| {
        keys.sort_by(|a, b| (&a.location, a.row_groups.start).cmp(&(&b.location, b.row_groups.start)));
    };
    sort(&mut loaded);
    sort(&mut expected);
    assert_eq!(loaded, expected);
    assert!(loaded.iter().any(|key| key.version.is_none()), "a file without a version keeps none");
    assert!(ok(repos.backfills.loaded(connection_id, &unique("qbench-none")).await, "none").is_empty());
}
