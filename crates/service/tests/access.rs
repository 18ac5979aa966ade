//! Who may do what, enforced by the services: roles (viewer < editor < admin) and ownership of
//! datasets, experiments and runs. Another user's object answers exactly what a missing one
//! answers; a missing role answers `Forbidden` before anything is looked up.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Display;
use std::sync::Arc;

use qbench_domain::{
    AccessDenied, Caller, ConnectionId, ConnectionSpec, Dataset, DatasetId, DatasetSpec, Dimension, Distance,
    Experiment, ExperimentId, ExperimentSpec, Role, Run, RunId, RunStatus, SchemaConfig, StorageId, StorageSpec,
    VectorSpec,
};
use qbench_repository::{Entity, Page, RunFilter};
use qbench_service::{ConnectionService, DatasetService, ExperimentService, RunService, ServiceError, StorageService};
use qbench_testkit::dataset::{InMemoryDatasetReader, MemoryDataset};
use qbench_testkit::{InMemoryDatabase, RecordingJobQueue, in_memory_repositories};

struct Services {
    connections: ConnectionService,
    storages: StorageService,
    datasets: DatasetService,
    experiments: ExperimentService,
    runs: RunService,
    queue: Arc<RecordingJobQueue>,
    _database: Arc<InMemoryDatabase>,
}

fn services() -> Services {
    let (repositories, database, queue) = in_memory_repositories();
    Services {
        connections: ConnectionService::new(repositories.connections.clone()),
        storages: StorageService::new(repositories.storages.clone()),
        datasets: DatasetService::new(repositories.datasets.clone(), repositories.storages.clone()),
        experiments: ExperimentService::new(
            repositories.experiments.clone(),
            repositories.datasets.clone(),
            repositories.connections.clone(),
        ),
        runs: RunService::new(
            repositories.runs.clone(),
            repositories.experiments.clone(),
            repositories.queue.clone(),
            repositories.clock.clone(),
        ),
        queue,
        _database: database,
    }
}

fn ann() -> Caller {
    Caller::new("ann@example.com", [Role::Editor])
}

fn bob() -> Caller {
    Caller::new("bob@example.com", [Role::Editor])
}

fn root() -> Caller {
    Caller::new("root@example.com", [Role::Admin])
}

fn viewer() -> Caller {
    Caller::new("vera@example.com", [Role::Viewer])
}

fn nobody() -> Caller {
    Caller::new("nora@example.com", [])
}

const SOURCE: &str = "s3://datasets/wiki.parquet";

fn dataset_spec(name: &str) -> DatasetSpec {
    DatasetSpec {
        name: name.to_owned(),
        source_uri: SOURCE.parse().unwrap(),
        storage_id: None,
        schema_config: SchemaConfig::from_vectors([(
            "dense",
            VectorSpec::new(Dimension::new(8).unwrap(), Distance::Cosine),
        )])
        .unwrap(),
    }
}

fn connection_spec(name: &str) -> ConnectionSpec {
    ConnectionSpec { name: name.to_owned(), url: "http://qdrant:6333".to_owned(), api_key: None }
}

fn storage_spec(name: &str) -> StorageSpec {
    StorageSpec {
        name: Some(name.to_owned()),
        bucket: "datasets".to_owned(),
        region: "us-east-1".to_owned(),
        endpoint_url: None,
        access_key: None,
        secret_key: None,
    }
}

/// A dataset of `owner`.
async fn dataset_of(services: &Services, owner: &Caller) -> Dataset {
    services.datasets.create(owner, dataset_spec("wiki")).await.unwrap()
}

/// An experiment of `owner` on a dataset of their own, through the built-in connection.
async fn experiment_of(services: &Services, owner: &Caller) -> Experiment {
    let dataset = dataset_of(services, owner).await;
    let spec = ExperimentSpec::new("m16", dataset.id, builtin(services).await);
    services.experiments.create(owner, spec).await.unwrap().0
}

/// A run of `owner` on an experiment of their own.
async fn run_of(services: &Services, owner: &Caller) -> Run {
    let experiment = experiment_of(services, owner).await;
    services.runs.create(owner, experiment.id, None).await.unwrap()
}

async fn builtin(services: &Services) -> ConnectionId {
    services.connections.ensure_builtin().await.unwrap().id
}

/// Asserts that `error` is `Forbidden` for want of `needed`, naming it.
#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, ServiceError>, needed: Role, what: &str) {
    let error = result.expect_err(what);
    let ServiceError::Forbidden(AccessDenied { needed: found, .. }) = error else {
        panic!("{what}: expected Forbidden, got {error:?}");
    };
    assert_eq!(found, needed, "{what}");
    assert!(error.to_string().starts_with(&format!("this needs the {needed} role")), "{what}: {error}");
}

/// Asserts that `hidden` (the answer for another user's object `hidden_id`) is exactly the
/// `NotFound` answered for the missing `missing_id`, ids aside.
#[track_caller]
fn assert_like_missing<T: std::fmt::Debug>(
    hidden: Result<T, ServiceError>,
    missing: Result<T, ServiceError>,
    entity: Entity,
    (hidden_id, missing_id): (impl Display, impl Display),
    what: &str,
) {
    let (hidden, missing) = (hidden.expect_err(what), missing.expect_err(what));
    let ServiceError::NotFound { entity: found, id } = &hidden else {
        panic!("{what}: expected NotFound, got {hidden:?}");
    };
    assert_eq!((*found, id.as_str()), (entity, hidden_id.to_string().as_str()), "{what}");
    assert_eq!(
        format!("{hidden:?}").replace(&hidden_id.to_string(), "ID"),
        format!("{missing:?}").replace(&missing_id.to_string(), "ID"),
        "{what}: another user's object answers what a missing one does"
    );
    assert_eq!(
        hidden.to_string().replace(&hidden_id.to_string(), "ID"),
        missing.to_string().replace(&missing_id.to_string(), "ID"),
        "{what}"
    );
}

#[tokio::test]
async fn a_viewer_reads_but_creates_nothing() {
    let services = services();
    let experiment = experiment_of(&services, &root()).await;
    let (viewer, connection) = (viewer(), builtin(&services).await);

    assert_forbidden(services.datasets.create(&viewer, dataset_spec("mine")).await, Role::Editor, "create dataset");
    assert_forbidden(
        services.datasets.create_inspected(&viewer, dataset_spec("mine")).await,
        Role::Editor,
        "create an inspected dataset",
    );
    let spec = ExperimentSpec::new("mine", experiment.spec.dataset_id, connection);
    assert_forbidden(services.experiments.create(&viewer, spec).await, Role::Editor, "create experiment");
    assert_forbidden(services.runs.create(&viewer, experiment.id, None).await, Role::Editor, "create run");
    assert!(services.queue.enqueued().is_empty(), "nothing was queued");

    // What a viewer may do: read their (empty) lists and the shared connections and storages.
    assert_eq!(services.datasets.list(&viewer, Page::default()).await.unwrap().total, 0);
    assert_eq!(services.experiments.list(&viewer, Page::default()).await.unwrap().total, 0);
    assert_eq!(services.runs.list(&viewer, RunFilter::default(), false, Page::default()).await.unwrap().total, 0);
    assert_eq!(services.connections.get(&viewer, connection).await.unwrap().id, connection);
    assert_eq!(services.connections.list(&viewer, Page::default()).await.unwrap().total, 1);
    assert_eq!(services.storages.list(&viewer, Page::default()).await.unwrap().total, 0);
    let spec = ExperimentSpec::new("dry", DatasetId::new(), connection);
    assert!(services.experiments.validate(&viewer, &spec).await.is_ok(), "the dry run only reads");
}

#[tokio::test]
async fn a_missing_role_is_refused_before_anything_is_looked_up() {
    let services = services();
    let (viewer, nobody) = (viewer(), nobody());
    // These ids exist nowhere: the answer is 403, not 404, so it tells nothing about them.
    assert_forbidden(services.runs.create(&viewer, ExperimentId::new(), None).await, Role::Editor, "run of nothing");
    assert_forbidden(services.runs.cancel(&viewer, RunId::new()).await, Role::Editor, "cancel nothing");
    assert_forbidden(services.runs.delete(&viewer, RunId::new()).await, Role::Editor, "delete no run");
    assert_forbidden(services.datasets.update(&viewer, DatasetId::new(), dataset_spec("x")).await, Role::Editor, "x");
    assert_forbidden(services.datasets.delete(&viewer, DatasetId::new()).await, Role::Editor, "delete dataset");
    assert_forbidden(services.datasets.get_for_update(&viewer, DatasetId::new()).await, Role::Editor, "patch");
    assert_forbidden(services.experiments.get_for_update(&viewer, ExperimentId::new()).await, Role::Editor, "patch");
    assert_forbidden(services.datasets.inspect(&viewer, DatasetId::new()).await, Role::Editor, "inspect dataset");
    assert_forbidden(services.experiments.delete(&viewer, ExperimentId::new(), true).await, Role::Editor, "delete");
    let spec = ExperimentSpec::new("x", DatasetId::new(), ConnectionId::new());
    assert_forbidden(services.experiments.update(&viewer, ExperimentId::new(), spec).await, Role::Editor, "update");

    // A user with no role at all may not even read.
    assert_forbidden(services.datasets.get(&nobody, DatasetId::new()).await, Role::Viewer, "get dataset");
    assert_forbidden(services.datasets.list(&nobody, Page::default()).await, Role::Viewer, "list datasets");
    assert_forbidden(services.experiments.get(&nobody, ExperimentId::new()).await, Role::Viewer, "get experiment");
    assert_forbidden(services.experiments.list(&nobody, Page::default()).await, Role::Viewer, "list experiments");
    let spec = ExperimentSpec::new("x", DatasetId::new(), ConnectionId::new());
    assert_forbidden(services.experiments.validate(&nobody, &spec).await, Role::Viewer, "validate");
    assert_forbidden(services.runs.get(&nobody, RunId::new()).await, Role::Viewer, "get run");
    assert_forbidden(
        services.runs.list(&nobody, RunFilter::default(), false, Page::default()).await,
        Role::Viewer,
        "list runs",
    );
    assert_forbidden(services.connections.get(&nobody, ConnectionId::new()).await, Role::Viewer, "get connection");
    assert_forbidden(services.connections.list(&nobody, Page::default()).await, Role::Viewer, "list connections");
    assert_forbidden(services.storages.get(&nobody, StorageId::new()).await, Role::Viewer, "get storage");
    assert_forbidden(services.storages.list(&nobody, Page::default()).await, Role::Viewer, "list storages");
    let error = services.datasets.list(&nobody, Page::default()).await.unwrap_err();
    assert_eq!(error.to_string(), "this needs the viewer role; you have no role");
}

#[tokio::test]
async fn connections_and_storage_are_managed_by_admins_only() {
    let services = services();
    let root = root();
    let connection = services.connections.create(&root, connection_spec("remote")).await.unwrap();
    let storage = services.storages.create(&root, storage_spec("minio")).await.unwrap();

    for caller in [ann(), viewer()] {
        let who = caller.user().to_owned();
        let (connections, storages) = (&services.connections, &services.storages);
        assert_forbidden(connections.create(&caller, connection_spec("mine")).await, Role::Admin, &who);
        assert_forbidden(connections.update(&caller, connection.id, connection_spec("x")).await, Role::Admin, &who);
        assert_forbidden(connections.delete(&caller, connection.id).await, Role::Admin, &who);
        assert_forbidden(connections.get_for_update(&caller, connection.id).await, Role::Admin, &who);
        // Checked first: an unknown id is refused the same way.
        assert_forbidden(connections.delete(&caller, ConnectionId::new()).await, Role::Admin, &who);
        assert_forbidden(storages.create(&caller, storage_spec("mine")).await, Role::Admin, &who);
        assert_forbidden(storages.update(&caller, storage.id, storage_spec("x")).await, Role::Admin, &who);
        assert_forbidden(storages.delete(&caller, storage.id).await, Role::Admin, &who);
        assert_forbidden(storages.get_for_update(&caller, storage.id).await, Role::Admin, &who);
        assert_forbidden(storages.delete(&caller, StorageId::new()).await, Role::Admin, &who);

        // Reading is a viewer's right: experiments and datasets need to name them.
        assert_eq!(connections.get(&caller, connection.id).await.unwrap().spec.name, "remote");
        assert_eq!(connections.list(&caller, Page::default()).await.unwrap().total, 1);
        assert_eq!(storages.get(&caller, storage.id).await.unwrap().spec.bucket, "datasets");
        assert_eq!(storages.list(&caller, Page::default()).await.unwrap().total, 1);
    }
    let error = services.connections.delete(&ann(), connection.id).await.unwrap_err();
    assert_eq!(error.to_string(), "this needs the admin role; you have editor");

    assert_eq!(services.connections.get_for_update(&root, connection.id).await.unwrap().id, connection.id);
    assert_eq!(services.storages.get_for_update(&root, storage.id).await.unwrap().id, storage.id);
    services.connections.update(&root, connection.id, connection_spec("renamed")).await.unwrap();
    services.storages.update(&root, storage.id, storage_spec("renamed")).await.unwrap();
    services.connections.delete(&root, connection.id).await.unwrap();
    services.storages.delete(&root, storage.id).await.unwrap();

    // The built-in connection's own rule still holds for admins.
    let embedded = builtin(&services).await;
    let refused = services.connections.delete(&root, embedded).await;
    assert!(matches!(refused, Err(ServiceError::Conflict(_))), "{refused:?}");
}

#[tokio::test]
async fn objects_record_the_user_who_created_them_and_keep_it() {
    let services = services();
    let run = run_of(&services, &ann()).await;
    let experiment = services.experiments.get(&ann(), run.experiment_id()).await.unwrap();
    let dataset = services.datasets.get(&ann(), experiment.spec.dataset_id).await.unwrap();
    let ann = "ann@example.com";
    assert_eq!((dataset.owner.as_str(), experiment.owner.as_str(), run.owner()), (ann, ann, ann));

    // An admin changing them does not take them over.
    let updated = services.datasets.update(&root(), dataset.id, dataset_spec("renamed")).await.unwrap();
    assert_eq!(updated.owner, ann);
    let mut spec = experiment.spec.clone();
    spec.name = "renamed".to_owned();
    let updated = services.experiments.update(&root(), experiment.id, spec).await.unwrap();
    assert_eq!(updated.owner, ann);
    let canceled = services.runs.cancel(&root(), run.id()).await.unwrap();
    assert_eq!(canceled.owner(), ann);
}

#[tokio::test]
async fn another_users_dataset_does_not_exist_for_an_editor() {
    let services = services();
    let (ann, bob) = (ann(), bob());
    let theirs = dataset_of(&services, &bob).await;
    let (hidden, missing) = (theirs.id, DatasetId::new());
    let ids = (hidden, missing);
    let datasets = &services.datasets;

    assert_like_missing(
        datasets.get(&ann, hidden).await,
        datasets.get(&ann, missing).await,
        Entity::Dataset,
        ids,
        "get",
    );
    assert_like_missing(
        datasets.update(&ann, hidden, dataset_spec("mine")).await,
        datasets.update(&ann, missing, dataset_spec("mine")).await,
        Entity::Dataset,
        ids,
        "update",
    );
    assert_like_missing(
        datasets.delete(&ann, hidden).await,
        datasets.delete(&ann, missing).await,
        Entity::Dataset,
        ids,
        "delete",
    );
    assert_like_missing(
        datasets.get_for_update(&ann, hidden).await,
        datasets.get_for_update(&ann, missing).await,
        Entity::Dataset,
        ids,
        "read for a patch",
    );
    let reader = InMemoryDatasetReader::new();
    let inspecting = datasets.clone().with_reader(Arc::new(reader.clone()), None);
    assert_like_missing(
        inspecting.inspect(&ann, hidden).await,
        inspecting.inspect(&ann, missing).await,
        Entity::Dataset,
        ids,
        "inspect",
    );
    let listed = datasets.list(&ann, Page::default()).await.unwrap();
    assert_eq!((listed.items.len(), listed.total), (0, 0), "ann lists none of bob's datasets");

    // Nothing changed for bob, who still sees it as it was.
    assert_eq!(datasets.get(&bob, hidden).await.unwrap(), theirs);
    let listed = datasets.list(&bob, Page::default()).await.unwrap();
    assert_eq!((listed.items, listed.total), (vec![theirs.clone()], 1));

    // Bob inspects, changes and deletes his own.
    let synthetic = qbench_domain::synthetic::SyntheticSpec {
        rows: 20,
        queries: 2,
        vectors: dataset_spec("wiki").schema_config.vectors,
        clusters: 2,
        seed: 1,
    };
    reader.insert(SOURCE, MemoryDataset::synthetic(&synthetic));
    assert!(inspecting.inspect(&bob, hidden).await.unwrap().inspection.is_some());
    assert_eq!(datasets.update(&bob, hidden, dataset_spec("renamed")).await.unwrap().spec.name, "renamed");
    datasets.delete(&bob, hidden).await.unwrap();
}

#[tokio::test]
async fn another_users_experiment_does_not_exist_for_an_editor() {
    let services = services();
    let (ann, bob) = (ann(), bob());
    let theirs = experiment_of(&services, &bob).await;
    let (hidden, missing) = (theirs.id, ExperimentId::new());
    let ids = (hidden, missing);
    let experiments = &services.experiments;

    assert_like_missing(
        experiments.get(&ann, hidden).await,
        experiments.get(&ann, missing).await,
        Entity::Experiment,
        ids,
        "get",
    );
    let mine = dataset_of(&services, &ann).await;
    let spec = ExperimentSpec::new("mine", mine.id, theirs.spec.connection_id);
    assert_like_missing(
        experiments.update(&ann, hidden, spec.clone()).await,
        experiments.update(&ann, missing, spec).await,
        Entity::Experiment,
        ids,
        "update",
    );
    assert_like_missing(
        experiments.get_for_update(&ann, hidden).await,
        experiments.get_for_update(&ann, missing).await,
        Entity::Experiment,
        ids,
        "read for a patch",
    );
    for cascade in [false, true] {
        assert_like_missing(
            experiments.delete(&ann, hidden, cascade).await,
            experiments.delete(&ann, missing, cascade).await,
            Entity::Experiment,
            ids,
            "delete",
        );
    }
    let listed = experiments.list(&ann, Page::default()).await.unwrap();
    assert_eq!((listed.items.len(), listed.total), (0, 0), "ann lists none of bob's experiments");

    // Nor can ann start a run of it.
    assert_like_missing(
        services.runs.create(&ann, hidden, None).await,
        services.runs.create(&ann, missing, None).await,
        Entity::Experiment,
        ids,
        "run of another user's experiment",
    );
    assert!(services.queue.enqueued().is_empty(), "nothing was queued");
    assert_eq!(experiments.get(&bob, hidden).await.unwrap(), theirs);
    experiments.delete(&bob, hidden, true).await.unwrap();
}

#[tokio::test]
async fn an_experiment_cannot_use_another_users_dataset() {
    let services = services();
    let (ann, bob) = (ann(), bob());
    let theirs = dataset_of(&services, &bob).await;
    let connection = builtin(&services).await;
    let hidden = ExperimentSpec::new("borrowed", theirs.id, connection);
    let missing_id = DatasetId::new();
    let missing = ExperimentSpec::new("borrowed", missing_id, connection);
    let message = |spec: &ExperimentSpec| format!("dataset {} does not exist", spec.dataset_id);

    let report = services.experiments.validate(&ann, &hidden).await.unwrap();
    let missing_report = services.experiments.validate(&ann, &missing).await.unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!((report.errors[0].field.as_str(), report.errors[0].message.clone()), ("dataset_id", message(&hidden)));
    assert_eq!(
        report.errors[0].message.replace(&theirs.id.to_string(), "ID"),
        missing_report.errors[0].message.replace(&missing_id.to_string(), "ID"),
        "another user's dataset is reported like a missing one"
    );
    let ServiceError::Invalid(violations) = services.experiments.create(&ann, hidden.clone()).await.unwrap_err() else {
        panic!("expected Invalid");
    };
    assert_eq!((violations[0].field.as_str(), violations[0].message.clone()), ("dataset_id", message(&hidden)));

    // Nor by changing an experiment of one's own.
    let mine = experiment_of(&services, &ann).await;
    let ServiceError::Invalid(violations) =
        services.experiments.update(&ann, mine.id, hidden.clone()).await.unwrap_err()
    else {
        panic!("expected Invalid");
    };
    assert_eq!(violations[0].field, "dataset_id");

    // The owner and admins may.
    assert!(services.experiments.create(&bob, hidden.clone()).await.is_ok());
    assert!(services.experiments.create(&root(), hidden).await.is_ok());
}

#[tokio::test]
async fn another_users_run_does_not_exist_for_an_editor() {
    let services = services();
    let (ann, bob) = (ann(), bob());
    let theirs = run_of(&services, &bob).await;
    let (hidden, missing) = (theirs.id(), RunId::new());
    let ids = (hidden, missing);
    let runs = &services.runs;

    assert_like_missing(runs.get(&ann, hidden).await, runs.get(&ann, missing).await, Entity::Run, ids, "get");
    assert_like_missing(runs.cancel(&ann, hidden).await, runs.cancel(&ann, missing).await, Entity::Run, ids, "cancel");
    assert_eq!(runs.get(&bob, hidden).await.unwrap().status(), RunStatus::Created, "the cancel changed nothing");

    // Filtering by bob's experiment does not reveal his runs either.
    let of_experiment = RunFilter { experiment_id: Some(theirs.experiment_id()), ..RunFilter::default() };
    let listed = runs.list(&ann, of_experiment.clone(), false, Page::default()).await.unwrap();
    assert_eq!((listed.items.len(), listed.total), (0, 0));
    let listed = runs.list(&bob, of_experiment, false, Page::default()).await.unwrap();
    assert_eq!((listed.items, listed.total), (vec![theirs.clone()], 1));

    // A viewer may not cancel even their own run: cancelling needs editor.
    assert_forbidden(runs.cancel(&viewer(), hidden).await, Role::Editor, "a viewer cancels");
    assert_eq!(runs.cancel(&bob, hidden).await.unwrap().status(), RunStatus::Canceled);

    // Nor delete it, even once it has ended; its owner may.
    assert_like_missing(runs.delete(&ann, hidden).await, runs.delete(&ann, missing).await, Entity::Run, ids, "delete");
    assert_forbidden(runs.delete(&viewer(), hidden).await, Role::Editor, "a viewer deletes");
    runs.delete(&bob, hidden).await.unwrap();
    assert!(matches!(runs.get(&bob, hidden).await, Err(ServiceError::NotFound { .. })), "deleted");
}

#[tokio::test]
async fn lists_and_their_totals_are_per_user_and_an_admin_sees_everyones() {
    let services = services();
    let (ann, bob, root) = (ann(), bob(), root());
    let mut bobs_runs = Vec::new();
    for _ in 0..2 {
        bobs_runs.push(run_of(&services, &bob).await);
    }
    for _ in 0..3 {
        run_of(&services, &ann).await;
    }
    let experiment = experiment_of(&services, &root).await;
    services.runs.create(&root, experiment.id, None).await.unwrap();
    let page = Page { limit: 2, offset: 0 };

    for (caller, count) in [(&ann, 3), (&bob, 2)] {
        let who = caller.user();
        let datasets = services.datasets.list(caller, page).await.unwrap();
        assert_eq!((datasets.items.len(), datasets.total), (2, count), "{who}'s datasets");
        assert!(datasets.items.iter().all(|item| item.owner == who));
        let experiments = services.experiments.list(caller, page).await.unwrap();
        assert_eq!((experiments.items.len(), experiments.total), (2, count), "{who}'s experiments");
        assert!(experiments.items.iter().all(|item| item.owner == who));
        let runs = services.runs.list(caller, RunFilter::default(), false, page).await.unwrap();
        assert_eq!((runs.items.len(), runs.total), (2, count), "{who}'s runs");
        assert!(runs.items.iter().all(|run| run.owner() == who));
        // Asking for everyone's runs is an admin's privilege.
        let error = services.runs.list(caller, RunFilter::default(), true, page).await.unwrap_err();
        assert!(matches!(error, ServiceError::Forbidden(AccessDenied { needed: Role::Admin, .. })), "{error:?}");
        assert_eq!(error.to_string(), "this needs the admin role; you have editor");
    }
    assert_forbidden(services.runs.list(&viewer(), RunFilter::default(), true, page).await, Role::Admin, "viewer");

    // An admin sees every dataset and experiment, but lists only their own runs unless asking.
    assert_eq!(services.datasets.list(&root, page).await.unwrap().total, 6);
    assert_eq!(services.experiments.list(&root, page).await.unwrap().total, 6);
    let own = services.runs.list(&root, RunFilter::default(), false, page).await.unwrap();
    assert_eq!(own.total, 1, "an admin's run list is their own by default");
    let all = services.runs.list(&root, RunFilter::default(), true, Page::default()).await.unwrap();
    assert_eq!(all.total, 6, "with `all`, everyone's runs");
    let of_bob = RunFilter { experiment_id: Some(bobs_runs[0].experiment_id()), ..RunFilter::default() };
    let listed = services.runs.list(&root, of_bob, true, Page::default()).await.unwrap();
    assert_eq!((listed.items, listed.total), (vec![bobs_runs[0].clone()], 1), "the other filters still apply");
    // A filter naming an owner cannot widen a list: the service sets the owner itself.
    let widened = RunFilter { owner: Some("bob@example.com".to_owned()), ..RunFilter::default() };
    assert_eq!(services.runs.list(&ann, widened, false, page).await.unwrap().total, 3);
}

#[tokio::test]
async fn an_admin_reads_changes_cancels_and_deletes_anyones_objects() {
    let services = services();
    let root = root();
    let run = run_of(&services, &ann()).await;
    let experiment = services.experiments.get(&root, run.experiment_id()).await.unwrap();
    let dataset = services.datasets.get(&root, experiment.spec.dataset_id).await.unwrap();
    assert_eq!(services.runs.get(&root, run.id()).await.unwrap(), run);

    // An admin may run another user's experiment; the run is the admin's.
    let own = services.runs.create(&root, experiment.id, None).await.unwrap();
    assert_eq!(own.owner(), root.user());
    let missing = RunId::new();
    assert_like_missing(
        services.runs.get(&ann(), own.id()).await,
        services.runs.get(&ann(), missing).await,
        Entity::Run,
        (own.id(), missing),
        "ann does not see the admin's run of her experiment",
    );

    assert_eq!(services.runs.cancel(&root, run.id()).await.unwrap().status(), RunStatus::Canceled);
    services.experiments.delete(&root, experiment.id, true).await.unwrap();
    services.datasets.delete(&root, dataset.id).await.unwrap();
    assert!(matches!(services.datasets.get(&ann(), dataset.id).await, Err(ServiceError::NotFound { .. })));
}
