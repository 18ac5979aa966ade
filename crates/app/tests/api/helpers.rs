//! The harness: the real application on a fresh database, requests sent in process, replies
//! parsed, and the checks every test shares (problem details, field names, links).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderMap};
use actix_web::http::{Method, StatusCode};
use actix_web::test::{self, TestRequest};
use base64::Engine;
use qbench_app::server::{build_app, open_state};
use qbench_app::settings::Settings;
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig};
use qbench_storage::{DatasetSource, DatasetWriter, GeneratedDataset};
use qbench_testkit::postgres::PostgresCluster;
use serde_json::{Value, json};
use tempfile::TempDir;
use uuid::Uuid;

/// The databases the app can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name the app reports for it (`/health`, capabilities).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Runs each named scenario, an `async fn(Backend)` of the calling module, once per backend:
/// the tests are `<module>::sqlite::<scenario>` and `<module>::postgres::<scenario>`.
macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $scenario() {
                    super::$scenario($crate::helpers::Backend::Sqlite).await;
                }
            )*
        }

        mod postgres {
            $(
                #[actix_web::test]
                async fn $scenario() {
                    super::$scenario($crate::helpers::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

/// The one PostgreSQL cluster of this test binary, started on first use; its watchdog stops it
/// when the process ends.
fn cluster() -> &'static PostgresCluster {
    static CLUSTER: OnceLock<Result<PostgresCluster, String>> = OnceLock::new();
    match CLUSTER.get_or_init(|| PostgresCluster::start().map_err(|error| error.to_string())) {
        Ok(cluster) => cluster,
        Err(error) => panic!("cannot start the PostgreSQL test cluster: {error}"),
    }
}

/// A new, empty PostgreSQL database; the cluster tools block, so they run off the event loop.
async fn fresh_postgres_database() -> String {
    actix_web::rt::task::spawn_blocking(|| {
        let name = format!("qbench_api_{}", Uuid::new_v4().simple());
        cluster().create_database(&name).expect("create a PostgreSQL database")
    })
    .await
    .expect("the database creation task")
}

/// Base64 of 32 random bytes, a valid `QBENCH_SECRET_KEY`.
pub(crate) fn random_secret_key() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

type Call = Box<dyn Fn(TestRequest) -> Pin<Box<dyn Future<Output = HttpResponse<BoxBody>>>>>;

/// One answer of the app.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    /// The body parsed as JSON; `Null` when it is empty or not JSON.
    pub(crate) body: Value,
    /// The body as text.
    pub(crate) text: String,
}

impl Reply {
    /// The value of header `name`, which must be there.
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no `{name}` header in {self:#?}"))
            .to_str()
            .expect("a text header")
    }

    /// The media type without parameters.
    pub(crate) fn media_type(&self) -> String {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_owned()
    }

    /// Asserts the status, showing the whole reply when it differs.
    #[track_caller]
    pub(crate) fn expect(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; reply: {self:#?}");
        self
    }

    /// The `id` of the body, as the string every path takes.
    pub(crate) fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no `id` in {self:#?}")).to_owned()
    }
}

/// The application over a fresh database, and what it takes to start it again on the same data.
pub(crate) struct TestApp {
    call: Call,
    pub(crate) backend: Backend,
    env: HashMap<String, String>,
    dir: TempDir,
    /// Every reply so far, as text (status, headers and body), to search for leaked secrets.
    transcript: RefCell<Vec<String>>,
}

/// The app on SQLite in a fresh temporary data dir.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_on(Backend::Sqlite).await
}

/// The app on `backend`, with a database of its own.
pub(crate) async fn spawn_app_on(backend: Backend) -> TestApp {
    spawn_app_with(backend, &[]).await
}

/// The app on `backend` with more environment variables (`MINIO_ENDPOINT`, …).
pub(crate) async fn spawn_app_with(backend: Backend, extra_env: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary data dir");
    let mut env = HashMap::from([
        ("QBENCH_DATA_DIR".to_owned(), dir.path().display().to_string()),
        ("QBENCH_SECRET_KEY".to_owned(), random_secret_key()),
        // Runs execute in a child process of the real binary, as they do under `qbench serve`.
        ("QBENCH_WORKER__EXECUTABLE".to_owned(), env!("CARGO_BIN_EXE_qbench").to_owned()),
        // One pass over the queries per repetition, two repetitions: the path of every run, fast.
        ("QBENCH_WORKER__SEARCH_SECONDS".to_owned(), "0".to_owned()),
        ("QBENCH_WORKER__REPETITIONS".to_owned(), "2".to_owned()),
    ]);
    env.extend(extra_env.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    if backend == Backend::Postgres {
        env.insert("DATABASE_URL".to_owned(), fresh_postgres_database().await);
    }
    start(backend, env, dir).await
}

async fn start(backend: Backend, env: HashMap<String, String>, dir: TempDir) -> TestApp {
    let settings = Settings::load(None, &env).expect("the test settings load");
    let state = open_state(&settings).await.expect("the application state opens");
    let service = Rc::new(test::init_service(build_app(state, settings.server.clone())).await);
    let call: Call = Box::new(move |request: TestRequest| {
        let service = Rc::clone(&service);
        Box::pin(async move {
            // An error out of the middleware chain is rendered as actix's server renders it.
            match test::try_call_service(&*service, request.to_request()).await {
                Ok(response) => response.into_parts().1.map_into_boxed_body(),
                Err(error) => error.error_response(),
            }
        })
    });
    TestApp { call, backend, env, dir, transcript: RefCell::new(Vec::new()) }
}

impl TestApp {
    /// Stops this app and starts a new one on the same data dir, database and secret key.
    pub(crate) async fn restart(self) -> TestApp {
        let Self { call, backend, env, dir, .. } = self;
        // Dropping the service drops the state and with it the database pool.
        drop(call);
        start(backend, env, dir).await
    }

    /// Opens the application state on this app's data dir and database with `changes` to its
    /// environment, as a second server started beside this one would.
    pub(crate) async fn open_beside(&self, changes: &[(&str, &str)]) -> Result<(), qbench_app::server::StartError> {
        let mut env = self.env.clone();
        env.extend(changes.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let settings = Settings::load(None, &env).expect("the test settings load");
        open_state(&settings).await.map(drop)
    }

    /// A run worker over the same database and data dir, as `qbench worker` would run beside the
    /// server.
    pub(crate) async fn worker(&self) -> std::sync::Arc<qbench_service::jobs::JobWorker> {
        let settings = Settings::load(None, &self.env).expect("the test settings load");
        qbench_app::server::open_runtime(&settings).await.expect("the runtime opens").worker
    }

    /// Runs `qbench <args>` on this app's data dir, database and secret key (as an operator would
    /// beside the server) and answers its exit code, stdout and stderr.
    pub(crate) fn cli(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_qbench"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(&self.env)
            .args(args)
            .output()
            .expect("qbench runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (output.status.code(), text(&output.stdout), text(&output.stderr))
    }

    /// Where this app keeps its data.
    pub(crate) fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Sends `request` and reads the whole reply.
    pub(crate) async fn send(&self, request: TestRequest) -> Reply {
        let response = (self.call)(request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = actix_web::body::to_bytes(response.into_body()).await.unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut record = format!("{status}\n");
        for (name, value) in &headers {
            record.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or_default()));
        }
        record.push_str(&text);
        self.transcript.borrow_mut().push(record);
        Reply { status, headers, body, text }
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(TestRequest::get().uri(path)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Reply {
        self.send(TestRequest::delete().uri(path)).await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(json_request(Method::POST, path, body)).await
    }

    pub(crate) async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.send(json_request(Method::PATCH, path, body)).await
    }

    /// A POST without a body (run creation and cancellation take none).
    pub(crate) async fn post_empty(&self, path: &str) -> Reply {
        self.send(TestRequest::post().uri(path)).await
    }

    /// POSTs `body` to the collection at `path`, asserts `201` with a `Location` naming the new
    /// object, and returns the object.
    #[track_caller]
    pub(crate) fn create<'a>(&'a self, path: &'a str, body: Value) -> impl Future<Output = Value> + 'a {
        let caller = std::panic::Location::caller();
        async move {
            let reply = self.post_json(path, &body).await;
            assert_eq!(reply.status.as_u16(), 201, "creating at {path} (called at {caller}): {reply:#?}");
            assert_eq!(reply.media_type(), "application/json", "{reply:#?}");
            assert_eq!(reply.header("location"), format!("{path}/{}", reply.id()), "{reply:#?}");
            reply.body
        }
    }

    /// Starts a run of `experiment_id`, asserting `202`, and returns the run id.
    pub(crate) async fn start_run(&self, experiment_id: &str) -> String {
        let reply = self.post_empty(&format!("/api/v1/experiments/{experiment_id}/runs")).await;
        reply.expect(202);
        let run_id = reply.body["run_id"].as_str().unwrap_or_else(|| panic!("no run_id: {reply:#?}")).to_owned();
        assert_eq!(reply.header("location"), format!("/api/v1/runs/{run_id}"));
        // Every 202 answers its task: the job, with where to follow it.
        let task = &reply.body["task"];
        assert_eq!(
            (&task["id"], &task["kind"], &task["status"]),
            (&json!(run_id), &json!("benchmark"), &json!("CREATED"))
        );
        assert_eq!(task["links"]["resource"], format!("/api/v1/runs/{run_id}"));
        run_id
    }

    /// The id of the built-in `embedded` connection, as listed.
    pub(crate) async fn builtin_connection_id(&self) -> String {
        let reply = self.get("/api/v1/connections?limit=1000").await;
        reply.expect(200);
        let builtin: Vec<&Value> =
            reply.body.as_array().expect("a list").iter().filter(|c| c["builtin"] == json!(true)).collect();
        assert_eq!(builtin.len(), 1, "exactly one built-in connection: {reply:#?}");
        builtin[0]["id"].as_str().expect("an id").to_owned()
    }

    /// Asserts that no reply so far carried `secret` anywhere, headers included.
    #[track_caller]
    pub(crate) fn assert_never_shown(&self, secret: &str) {
        let transcript = self.transcript.borrow();
        assert!(!transcript.is_empty(), "nothing was sent");
        for record in transcript.iter() {
            assert!(!record.contains(secret), "`{secret}` was shown in a reply:\n{record}");
        }
    }
}

fn json_request(method: Method, path: &str, body: &Value) -> TestRequest {
    TestRequest::default()
        .method(method)
        .uri(path)
        .insert_header(header::ContentType::json())
        .set_payload(serde_json::to_vec(body).expect("serialisable JSON"))
}

/// Asserts that `reply` is an RFC 7807 problem with `status`: media type
/// `application/problem+json` and every standard member, `instance` being the request path.
#[track_caller]
pub(crate) fn assert_problem(reply: &Reply, status: u16) {
    reply.expect(status);
    assert_eq!(reply.media_type(), "application/problem+json", "{reply:#?}");
    let body = &reply.body;
    for member in ["type", "title", "detail", "instance"] {
        let value = body[member].as_str().unwrap_or_else(|| panic!("problem without `{member}`: {reply:#?}"));
        assert!(!value.is_empty(), "empty `{member}`: {reply:#?}");
    }
    assert_eq!(body["status"], json!(status), "{reply:#?}");
    assert!(body["instance"].as_str().is_some_and(|instance| instance.starts_with('/')), "{reply:#?}");
}

/// `object` without its `created_at` and `updated_at`, to compare what a write answered with what
/// a read answers without depending on timestamp precision (checked on its own in `seed`).
pub(crate) fn untimed(object: &Value) -> Value {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("created_at");
        map.remove("updated_at");
    }
    object
}

/// The `field` of every entry of a problem's (or a validation answer's) `errors`.
pub(crate) fn fields(errors: &Value) -> Vec<String> {
    errors
        .as_array()
        .map(|errors| errors.iter().filter_map(|error| error["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// Asserts that `errors` has an entry for `field`, returning its message.
#[track_caller]
pub(crate) fn message_for<'a>(errors: &'a Value, field: &str) -> &'a str {
    errors
        .as_array()
        .and_then(|errors| errors.iter().find(|error| error["field"] == json!(field)))
        .and_then(|error| error["message"].as_str())
        .unwrap_or_else(|| panic!("no error for `{field}` in {errors:#}"))
}

/// The `Link` header parsed into `rel → target`.
pub(crate) fn links(reply: &Reply) -> BTreeMap<String, String> {
    reply
        .header("link")
        .split(',')
        .map(|link| {
            let (target, params) = link.trim().split_once(';').unwrap_or_else(|| panic!("a link with a rel: {link}"));
            let target = target.trim().trim_start_matches('<').trim_end_matches('>').to_owned();
            let rel = params
                .split(';')
                .filter_map(|param| param.trim().strip_prefix("rel="))
                .next()
                .unwrap_or_else(|| panic!("no rel in {link}"))
                .trim_matches('"')
                .to_owned();
            (rel, target)
        })
        .collect()
}

/// The ids of a list reply, in order.
pub(crate) fn ids(reply: &Reply) -> Vec<String> {
    reply
        .body
        .as_array()
        .unwrap_or_else(|| panic!("not a bare JSON array: {reply:#?}"))
        .iter()
        .map(|item| item["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// The seed connection: a Qdrant with an API key.
pub(crate) fn seed_connection() -> Value {
    json!({"name": "local-qdrant", "url": "http://localhost:6333", "api_key": "my-secret-api-key-3y"})
}

/// The seed storage: MinIO with keys.
pub(crate) fn seed_storage() -> Value {
    json!({
        "bucket": "datasets",
        "region": "us-east-1",
        "endpoint_url": "http://localhost:9000",
        "access_key": "minioadmin",
        "secret_key": "minioadmin-secret"
    })
}

/// The seed dataset: two named vectors, one with a lowercase alias of a distance.
pub(crate) fn seed_dataset() -> Value {
    json!({
        "name": "wiki-mm",
        "source_uri": "s3://datasets/wiki-mm.parquet",
        "schema_config": {
            "scalar_fields": ["title"],
            "vectors": {
                "text_embedding": {"dim": 768, "distance": "Cosine"},
                "image_embedding": {"dim": 512, "distance": "euclidean"}
            }
        }
    })
}

/// A dataset with one shorthand vector `dense` of 1536 dimensions.
pub(crate) fn dense_dataset(name: &str) -> Value {
    json!({"name": name, "source_uri": "s3://datasets/dense.parquet", "schema_config": {"vectors": {"dense": 1536}}})
}

/// The seed experiment on the seed dataset.
pub(crate) fn seed_experiment(dataset_id: &str, connection_id: &str) -> Value {
    json!({
        "name": "hnsw-m16-vs-m32",
        "dataset_id": dataset_id,
        "connection_id": connection_id,
        "optimizer_config": {
            "indexing": {
                "text_embedding": {"type": "hnsw", "m": 16, "ef_construct": 100},
                "image_embedding": {"type": "hnsw", "m": 32, "ef_construct": 200}
            },
            "quantization": {"scalar": "int8"}
        },
        "search_config": {"k": 10, "hnsw_ef": [64, 128]}
    })
}

/// A valid experiment on a `dense_dataset`.
pub(crate) fn dense_experiment(name: &str, dataset_id: &str, connection_id: &str) -> Value {
    json!({
        "name": name,
        "dataset_id": dataset_id,
        "connection_id": connection_id,
        "optimizer_config": {"indexing": {"dense": {"m": 16, "ef_construct": 100}}},
        "search_config": {"k": 10, "hnsw_ef": [32, 64]}
    })
}

/// Writes `dataset` under `dir/name/` in the directory layout (`train.parquet`, `test.parquet`,
/// and `neighbors.parquet` when it has a ground truth), as `qbench dataset generate` would.
pub(crate) async fn write_dataset(dir: &std::path::Path, name: &str, dataset: &GeneratedDataset) {
    let storage = ParquetStorage::new(ParquetStorageConfig {
        data_roots: vec![dir.to_path_buf()],
        ..ParquetStorageConfig::default()
    })
    .unwrap();
    let target = DatasetSource { uri: format!("{name}/").parse().unwrap(), s3: None, local_area: None };
    storage.write_dataset(&target, dataset).await.unwrap();
}
