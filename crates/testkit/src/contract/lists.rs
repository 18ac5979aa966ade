//! Contract checks of list order, pagination, totals and run filters.

use std::cmp::Reverse;
use std::fmt::Debug;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use qbench_domain::{Run, RunStatus};
use qbench_repository::{Listed, Page, RepositoryError, RunFilter};
use uuid::Uuid;

use super::RepositoryUnderTest;
use super::fixtures::{OWNER, connection, dataset, experiment, far_future, ok, seed_experiment, storage, unique};

/// Connections, storages, datasets and experiments list in creation order (ties by id), page by
/// page, with the size of the whole list as `total`.
pub async fn check_lists_in_creation_order(repos: &RepositoryUnderTest) {
    // Two objects share a creation time, so the order between them is the id's; the others differ
    // by a second, a millisecond and a microsecond from a whole second, so that timestamps stored
    // as text (SQLite) must still sort by time whatever their number of fractional digits.
    let times = |base: DateTime<Utc>| {
        [base + Duration::seconds(1), base, base + Duration::milliseconds(1), base, base + Duration::microseconds(1)]
    };

    let list = async |page| repos.connections.list(page).await;
    let (before, base) = end_of("connections", list, |c| c.created_at).await;
    let mut created = Vec::new();
    for at in times(base) {
        let mut item = connection();
        item.created_at = at;
        ok(repos.connections.insert(&item).await, "insert connection");
        created.push((at, item.id.as_uuid()));
    }
    check_pages("connections", before, ascending(created), list, |c| c.id.as_uuid()).await;

    let list = async |page| repos.storages.list(page).await;
    let (before, base) = end_of("storages", list, |s| s.created_at).await;
    let mut created = Vec::new();
    for at in times(base) {
        let mut item = storage(false);
        item.created_at = at;
        ok(repos.storages.insert(&item).await, "insert storage");
        created.push((at, item.id.as_uuid()));
    }
    check_pages("storages", before, ascending(created), list, |s| s.id.as_uuid()).await;

    let (target, data, _) = seed_experiment(repos).await;
    let list = async |page| repos.datasets.list(None, page).await;
    let (before, base) = end_of("datasets", list, |d| d.created_at).await;
    let mut created = Vec::new();
    for at in times(base) {
        let mut item = dataset(None);
        item.created_at = at;
        ok(repos.datasets.insert(&item).await, "insert dataset");
        created.push((at, item.id.as_uuid()));
    }
    check_pages("datasets", before, ascending(created), list, |d| d.id.as_uuid()).await;

    let list = async |page| repos.experiments.list(None, page).await;
    let (before, base) = end_of("experiments", list, |e| e.created_at).await;
    let mut created = Vec::new();
    for at in times(base) {
        let mut item = experiment(&data, target.id);
        item.created_at = at;
        ok(repos.experiments.insert(&item).await, "insert experiment");
        created.push((at, item.id.as_uuid()));
    }
    check_pages("experiments", before, ascending(created), list, |e| e.id.as_uuid()).await;
}

/// Runs list newest first (ties by id, descending), filtered by experiment and status, with the
/// size of the filtered set as `total`.
pub async fn check_run_lists_newest_first_with_filters(repos: &RepositoryUnderTest) {
    let (_, _, experiment) = seed_experiment(repos).await;
    // The newest run, if any, is first in the unfiltered list; these runs go after it.
    let newest = ok(repos.runs.list(RunFilter::default(), page(0, 1)).await, "list runs");
    let base = later_than(newest.items.first().map(Run::created_at));
    let mut runs = Vec::new();
    for (offset, status) in
        [(0, RunStatus::Created), (1, RunStatus::Running), (1, RunStatus::Running), (2, RunStatus::Completed)]
    {
        let at = base + Duration::seconds(offset);
        let mut run = Run::new(experiment.id, OWNER, at);
        if status != RunStatus::Created {
            ok(run.claim("worker-1", at + Duration::seconds(30), at), "claim");
        }
        if status == RunStatus::Completed {
            ok(run.complete(serde_json::json!({"recall": 1.0}), at), "complete");
        }
        ok(repos.runs.insert(&run).await, "insert run");
        runs.push(run);
    }
    runs.sort_by_key(|run| Reverse((run.created_at(), run.id())));
    let ids = |runs: &[Run]| runs.iter().map(|run| run.id().as_uuid()).collect::<Vec<_>>();
    let newest_first = ids(&runs);

    let of_experiment = RunFilter { experiment_id: Some(experiment.id), ..RunFilter::default() };
    let all = ok(repos.runs.list(of_experiment.clone(), page(0, 10)).await, "list the experiment's runs");
    assert_eq!((ids(&all.items), all.total), (newest_first.clone(), 4), "runs of the experiment, newest first");
    let middle = ok(repos.runs.list(of_experiment, page(1, 2)).await, "list a page of runs");
    assert_eq!((ids(&middle.items), middle.total), (newest_first[1..3].to_vec(), 4), "second and third run");

    let running =
        RunFilter { experiment_id: Some(experiment.id), status: Some(RunStatus::Running), owner: None, study_id: None };
    let listed = ok(repos.runs.list(running, page(0, 10)).await, "list running runs");
    let expected: Vec<Uuid> =
        ids(&runs.iter().filter(|run| run.status() == RunStatus::Running).cloned().collect::<Vec<_>>());
    assert_eq!((ids(&listed.items), listed.total), (expected.clone(), 2), "running runs of the experiment");

    let failed =
        RunFilter { experiment_id: Some(experiment.id), status: Some(RunStatus::Failed), owner: None, study_id: None };
    let listed = ok(repos.runs.list(failed, page(0, 10)).await, "list failed runs");
    assert_eq!((listed.items.len(), listed.total), (0, 0), "no failed runs");

    // A study's trials, and only them.
    let study = qbench_domain::JobId::new();
    let trial = Run::trial(&experiment, study, OWNER, super::fixtures::now());
    ok(repos.runs.insert(&trial).await, "insert a trial run");
    let of_study = RunFilter { study_id: Some(study), ..RunFilter::default() };
    let listed = ok(repos.runs.list(of_study, page(0, 10)).await, "list the study's runs");
    assert_eq!((ids(&listed.items), listed.total), (vec![trial.id().as_uuid()], 1), "the study's one trial");
    assert_eq!(listed.items[0].study_id(), Some(study), "the trial reads back with its study");

    // Without the experiment filter other checks' runs count too, but these are the newest.
    let any_running = RunFilter { status: Some(RunStatus::Running), ..RunFilter::default() };
    let listed = ok(repos.runs.list(any_running.clone(), page(0, 2)).await, "list all running runs");
    assert_eq!(ids(&listed.items), expected, "the newest running runs come first");
    assert!(listed.total >= 2, "total counts every running run");
    let everything = ok(repos.runs.list(any_running, page(0, Page::MAX_LIMIT)).await, "list all running runs");
    assert!(everything.items.iter().all(|run| run.status() == RunStatus::Running), "the status filter applies");
    assert_eq!(everything.total, listed.total, "total is the size of the filtered set");

    let newest = ok(repos.runs.list(RunFilter::default(), page(0, 4)).await, "list all runs");
    assert_eq!(ids(&newest.items), newest_first, "unfiltered, the newest runs come first");
    assert!(newest.total >= everything.total + 2, "total counts every run");
}

/// With an owner, datasets, experiments and runs list only that user's objects, in their usual
/// order, and `total` counts only them; for runs the owner combines with the other filters.
pub async fn check_lists_filter_by_owner(repos: &RepositoryUnderTest) {
    let (ann, bob, nobody) = (unique("ann"), unique("bob"), unique("nobody"));
    let target = connection();
    ok(repos.connections.insert(&target).await, "insert connection");

    let mut datasets = Vec::new();
    for owner in [&ann, &bob, &ann, &bob, &ann] {
        let mut item = dataset(None);
        item.owner = owner.clone();
        ok(repos.datasets.insert(&item).await, "insert dataset");
        datasets.push(item);
    }
    for owner in [&ann, &bob] {
        let list = async |page| repos.datasets.list(Some(owner), page).await;
        let mine = datasets.iter().filter(|d| &d.owner == owner).map(|d| (d.created_at, d.id.as_uuid())).collect();
        check_pages("datasets of one owner", 0, ascending(mine), list, |d| d.id.as_uuid()).await;
    }
    let none = ok(repos.datasets.list(Some(&nobody), page(0, 10)).await, "list datasets of nobody");
    assert_eq!((none.items.len(), none.total), (0, 0), "a user without datasets has none");
    let everyone = ok(repos.datasets.list(None, page(0, 1)).await, "list every dataset");
    assert!(everyone.total >= 5, "without an owner, every dataset counts");

    let mut experiments = Vec::new();
    for owner in [&bob, &ann, &bob] {
        let mut item = experiment(&datasets[0], target.id);
        item.owner = owner.clone();
        ok(repos.experiments.insert(&item).await, "insert experiment");
        experiments.push(item);
    }
    for owner in [&ann, &bob] {
        let list = async |page| repos.experiments.list(Some(owner), page).await;
        let mine = experiments.iter().filter(|e| &e.owner == owner).map(|e| (e.created_at, e.id.as_uuid())).collect();
        check_pages("experiments of one owner", 0, ascending(mine), list, |e| e.id.as_uuid()).await;
    }
    let none = ok(repos.experiments.list(Some(&nobody), page(0, 10)).await, "list experiments of nobody");
    assert_eq!((none.items.len(), none.total), (0, 0), "a user without experiments has none");
    let everyone = ok(repos.experiments.list(None, page(0, 1)).await, "list every experiment");
    assert!(everyone.total >= 3, "without an owner, every experiment counts");

    let base = far_future();
    let mut runs = Vec::new();
    for (offset, owner) in [(0, &ann), (1, &bob), (2, &ann), (3, &ann), (4, &bob)] {
        let at = base + Duration::seconds(offset);
        let mut run = Run::new(experiments[1].id, owner.clone(), at);
        if offset == 2 {
            ok(run.claim("worker-1", at + Duration::seconds(30), at), "claim");
        }
        ok(repos.runs.insert(&run).await, "insert run");
        runs.push(run);
    }
    runs.sort_by_key(|run| Reverse((run.created_at(), run.id())));
    let ids_of = |owner: &str, status: Option<RunStatus>| -> Vec<Uuid> {
        runs.iter()
            .filter(|run| run.owner() == owner && status.is_none_or(|status| run.status() == status))
            .map(|run| run.id().as_uuid())
            .collect()
    };
    let ids = |listed: &Listed<Run>| listed.items.iter().map(|run| run.id().as_uuid()).collect::<Vec<_>>();

    let of_ann = RunFilter { owner: Some(ann.clone()), ..RunFilter::default() };
    let listed = ok(repos.runs.list(of_ann.clone(), page(0, 10)).await, "list ann's runs");
    assert_eq!((ids(&listed), listed.total), (ids_of(&ann, None), 3), "ann's runs, newest first");
    let second = ok(repos.runs.list(of_ann, page(2, 2)).await, "list a page of ann's runs");
    assert_eq!((ids(&second), second.total), (ids_of(&ann, None)[2..].to_vec(), 3), "the total stays ann's");

    let of_bob =
        RunFilter { experiment_id: Some(experiments[1].id), owner: Some(bob.clone()), status: None, study_id: None };
    let listed = ok(repos.runs.list(of_bob, page(0, 10)).await, "list bob's runs of the experiment");
    assert_eq!((ids(&listed), listed.total), (ids_of(&bob, None), 2), "bob's runs of the experiment");

    let running =
        RunFilter { owner: Some(ann.clone()), status: Some(RunStatus::Running), experiment_id: None, study_id: None };
    let listed = ok(repos.runs.list(running, page(0, 10)).await, "list ann's running runs");
    assert_eq!((ids(&listed), listed.total), (ids_of(&ann, Some(RunStatus::Running)), 1), "ann's running run");
    let bob_running =
        RunFilter { owner: Some(bob.clone()), status: Some(RunStatus::Running), experiment_id: None, study_id: None };
    let listed = ok(repos.runs.list(bob_running, page(0, 10)).await, "list bob's running runs");
    assert_eq!((listed.items.len(), listed.total), (0, 0), "bob has no running run");

    let of_nobody = RunFilter { owner: Some(nobody), ..RunFilter::default() };
    let listed = ok(repos.runs.list(of_nobody, page(0, 10)).await, "list runs of nobody");
    assert_eq!((listed.items.len(), listed.total), (0, 0), "a user without runs has none");
    let of_experiment = RunFilter { experiment_id: Some(experiments[1].id), ..RunFilter::default() };
    let listed = ok(repos.runs.list(of_experiment, page(0, 10)).await, "list every run of the experiment");
    assert_eq!(listed.total, 5, "without an owner, every user's runs count");
}

fn page(offset: u64, limit: u64) -> Page {
    Page { limit, offset }
}

fn ascending(mut created: Vec<(DateTime<Utc>, Uuid)>) -> Vec<Uuid> {
    created.sort();
    created.into_iter().map(|(_, id)| id).collect()
}

/// The size of a list in creation order and a time after its last item (and after anything the
/// other checks create), for objects that must go to its end.
async fn end_of<T>(
    what: &str,
    list: impl AsyncFn(Page) -> Result<Listed<T>, RepositoryError>,
    created_at: impl Fn(&T) -> DateTime<Utc>,
) -> (u64, DateTime<Utc>) {
    let total = ok(list(page(0, 1)).await, what).total;
    let last = ok(list(page(total.saturating_sub(1), 1)).await, what);
    (total, later_than(last.items.first().map(created_at)))
}

/// A whole second after `latest` and far after now.
fn later_than(latest: Option<DateTime<Utc>>) -> DateTime<Utc> {
    let future = far_future();
    latest.map_or(future, |latest| future.max(latest + Duration::minutes(1))).trunc_subsecs(0)
}

/// Checks that the `expected` items, created last, fill the list from `before` on, two at a time.
async fn check_pages<T: Debug>(
    what: &str,
    before: u64,
    expected: Vec<Uuid>,
    list: impl AsyncFn(Page) -> Result<Listed<T>, RepositoryError>,
    id: impl Fn(&T) -> Uuid,
) {
    let total = before + expected.len() as u64;
    let mut seen = Vec::new();
    let mut offset = before;
    loop {
        let listed = ok(list(page(offset, 2)).await, what);
        assert_eq!(listed.total, total, "{what}: total at offset {offset}");
        assert!(listed.items.len() <= 2, "{what}: a page holds at most `limit` items");
        if listed.items.is_empty() {
            break;
        }
        seen.extend(listed.items.iter().map(&id));
        offset += 2;
    }
    assert_eq!(seen, expected, "{what}: creation order, then id");
}
