//! Each run executes in a child process of its own (`qbench execute-run`), so nothing a run does
//! can take the server down: a child killed by SIGABRT (the abort of a failed allocation) or
//! SIGKILL (the out-of-memory killer) fails that run with the cause while the server keeps
//! serving, and a cancel stops the child at any phase, even inside an index build that cannot
//! stop on its own, and frees the worker for the next run at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use support::{Process, http, post, wait_for};

/// A server on a fresh data dir holding a generated dataset `ds` of `rows` × `dim`, registered.
struct Setup {
    server: Process,
    port: u16,
    dataset: Value,
    embedded: Value,
    _data: tempfile::TempDir,
    _logs: tempfile::TempDir,
}

impl Setup {
    fn start(rows: u32, dim: u32) -> Self {
        Self::start_with(rows, dim, "")
    }

    /// As [`Setup::start`], with more configuration (TOML) appended.
    fn start_with(rows: u32, dim: u32, more_config: &str) -> Self {
        let data = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let config = logs.path().join("qbench.toml");
        std::fs::write(&config, format!("[worker]\nheartbeat_ms = 100\n{more_config}")).unwrap();
        generate(data.path(), rows, dim);
        let (server, port) = Process::serve(data.path(), &config, logs.path());
        let vectors = json!({"v": {"dim": dim, "distance": "Cosine"}});
        let dataset = post(
            port,
            "/api/v1/datasets?inspect=true",
            &json!({"name": "ds", "source_uri": "ds/", "schema_config": {"vectors": vectors}}),
            201,
        );
        let (status, connections) = http(port, "GET", "/api/v1/connections", &[], None);
        assert_eq!(status, 200, "{connections:#}");
        let embedded =
            connections.as_array().unwrap().iter().find(|c| c["builtin"] == json!(true)).unwrap()["id"].clone();
        Self { server, port, dataset, embedded, _data: data, _logs: logs }
    }

    /// Creates an experiment with these settings and triggers a run of it; answers the run's path.
    fn trigger(&self, name: &str, indexing: Value, upload: Value) -> String {
        self.trigger_on(&self.dataset["id"], name, indexing, upload)
    }

    /// As [`Setup::trigger`], on another dataset.
    fn trigger_on(&self, dataset: &Value, name: &str, indexing: Value, upload: Value) -> String {
        let experiment = post(
            self.port,
            "/api/v1/experiments",
            &json!({
                "name": name, "dataset_id": dataset, "connection_id": self.embedded,
                "optimizer_config": {"indexing": {"v": indexing}},
                "search_config": {"k": 10, "hnsw_ef": [64]},
                "upload_config": upload
            }),
            201,
        );
        let path = format!("/api/v1/experiments/{}/runs", experiment["id"].as_str().unwrap());
        let (status, created) = http(self.port, "POST", &path, &[], None);
        assert_eq!(status, 202, "{created:#}");
        format!("/api/v1/runs/{}", created["run_id"].as_str().unwrap())
    }

    fn run(&self, path: &str) -> Value {
        http(self.port, "GET", path, &[], None).1
    }

    /// Waits until the run at `path` is RUNNING in `phase` (with some of it done, when `started`).
    fn wait_for_phase(&mut self, path: &str, phase: &str, started: bool) -> Value {
        wait_for(Duration::from_secs(120), &format!("the run to be in {phase}"), || {
            self.server.assert_running();
            let run = self.run(path);
            assert!(matches!(run["status"].as_str(), Some("CREATED" | "RUNNING")), "{run:#}\n{}", self.server.output());
            let progress = &run["progress"];
            let under_way = !started || progress["done"].as_u64() > Some(0);
            if run["status"] == "RUNNING" && progress["phase"] == phase && under_way {
                Ok(run)
            } else {
                Err(format!("{run:#}"))
            }
        })
    }

    /// The process id of the child executing `run_id`, from the server's log.
    fn child_pid(&self, run_id: &str) -> u32 {
        let output = self.server.output();
        let line = output
            .lines()
            .find(|line| line.contains("run process started") && line.contains(run_id))
            .unwrap_or_else(|| panic!("no child process logged for {run_id}:\n{output}"));
        let logged: Value = serde_json::from_str(line).unwrap();
        let pid = logged["pid"].as_u64().or_else(|| logged["fields"]["pid"].as_u64());
        u32::try_from(pid.unwrap_or_else(|| panic!("no pid in {line}"))).unwrap()
    }

    fn assert_serving(&mut self) {
        self.server.assert_running();
        let (status, health) = http(self.port, "GET", "/health", &[], None);
        assert_eq!(status, 200, "{health:#}");
    }
}

fn generate(data: &Path, rows: u32, dim: u32) {
    let generated = Command::new(env!("CARGO_BIN_EXE_qbench"))
        .env_clear()
        .env("QBENCH_DATA_DIR", data)
        .args(["dataset", "generate", "--rows", &rows.to_string(), "--queries", "20", "--neighbors", "10"])
        .args(["--vectors", &format!("v:{dim}:Cosine"), "--out"])
        .arg(data.join("ds"))
        .output()
        .unwrap();
    assert!(generated.status.success(), "qbench dataset generate: {}", String::from_utf8_lossy(&generated.stderr));
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().unwrap();
    assert!(status.success(), "kill -{name} {pid}");
}

#[test]
fn a_run_process_killed_by_sigabrt_or_sigkill_fails_that_run_and_the_server_keeps_serving() {
    let mut setup = Setup::start(20_000, 16);
    for (signal_name, number, cause) in [("ABRT", 6, "SIGABRT"), ("KILL", 9, "SIGKILL")] {
        // One point per upsert: an upload long enough to be caught under way.
        let path = setup.trigger(
            &format!("killed-{signal_name}"),
            json!({"type": "hnsw", "m": 16, "ef_construct": 100}),
            json!({"batch_size": 1, "parallel": 1}),
        );
        let running = setup.wait_for_phase(&path, "upload", true);
        let run_id = running["id"].as_str().unwrap().to_owned();
        signal(setup.child_pid(&run_id), signal_name);
        let ended = wait_for(Duration::from_secs(30), "the run to fail", || {
            let run = setup.run(&path);
            if run["status"] == "RUNNING" { Err(format!("{run:#}")) } else { Ok(run) }
        });
        assert_eq!(ended["status"], "FAILED", "{ended:#}");
        let error = ended["error"].as_str().unwrap();
        assert!(error.starts_with("upload: the run's process was killed by signal"), "{error}");
        assert!(error.contains(&format!("signal {number} ({cause}")), "{error}");
        // Regression (issue 14): a killed process wrote no log; the supervisor writes it: the
        // phases the process reported, then the failure.
        let log = std::fs::read_to_string(setup._data.path().join("results").join(&run_id).join("log.jsonl")).unwrap();
        let events: Vec<Value> = log.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert!(events.iter().any(|event| event["event"] == "phase" && event["phase"] == "upload"), "{log}");
        let last = events.last().unwrap();
        assert_eq!((&last["event"], &last["phase"]), (&json!("failed"), &json!("upload")), "{log}");
        assert!(last["error"].as_str().unwrap().contains("killed by signal"), "{log}");
        setup.assert_serving();
        let collection = setup._data.path().join("engine").join(format!("qbench-{run_id}"));
        wait_for(Duration::from_secs(10), "the killed run's collection to be dropped", || {
            if collection.exists() { Err(collection.display().to_string()) } else { Ok(()) }
        });
    }
}

#[test]
fn cancel_during_an_index_build_frees_the_worker_for_the_next_run_within_2_seconds() {
    let mut setup = Setup::start(40_000, 64);
    // A dense graph over 40,000 points: a build of many seconds that cannot stop on its own.
    let slow = setup.trigger("slow-index", json!({"type": "hnsw", "m": 64, "ef_construct": 2000}), json!({}));
    let next = setup.trigger("next", json!({"type": "hnsw", "m": 8, "ef_construct": 16}), json!({}));
    setup.wait_for_phase(&slow, "index", false);
    let (status, cancelled) = http(setup.port, "POST", &format!("{slow}/cancel"), &[], None);
    assert_eq!(status, 200, "{cancelled:#}");
    assert_eq!(cancelled["status"], "CANCELED", "{cancelled:#}");
    wait_for(Duration::from_secs(2), "the next run to start", || {
        let run = setup.run(&next);
        if run["status"] == "CREATED" { Err(format!("{run:#}")) } else { Ok(()) }
    });
    let ended = wait_for(Duration::from_secs(120), "the next run to complete", || {
        let run = setup.run(&next);
        if run["status"] == "COMPLETED" { Ok(run) } else { Err(format!("{run:#}")) }
    });
    assert!(ended["metrics"].is_object(), "{ended:#}");
    assert_eq!(setup.run(&slow)["status"], "CANCELED");
    setup.assert_serving();
}

#[test]
fn cancel_during_a_hanging_http_read_frees_the_worker_for_the_next_run_within_2_seconds() {
    // A server that accepts connections and never answers; allowed by the egress policy here.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = silent.local_addr().unwrap();
    let mut setup = Setup::start_with(2_000, 8, "[egress]\nallow_cidrs = [\"127.0.0.1/32\"]\n");
    let hanging = post(
        setup.port,
        "/api/v1/datasets",
        &json!({
            "name": "silent", "source_uri": format!("http://{address}/train.parquet"),
            "schema_config": {"vectors": {"v": {"dim": 8, "distance": "Cosine"}}}
        }),
        201,
    );
    let stuck = setup.trigger_on(&hanging["id"], "stuck", json!({"type": "hnsw"}), json!({}));
    let next = setup.trigger("after-stuck", json!({"type": "hnsw", "m": 8, "ef_construct": 16}), json!({}));
    setup.wait_for_phase(&stuck, "prepare", false);
    // The request is under way: the silent server has the connection.
    let (_connection, _) = silent.accept().unwrap();
    let (status, cancelled) = http(setup.port, "POST", &format!("{stuck}/cancel"), &[], None);
    assert_eq!(status, 200, "{cancelled:#}");
    wait_for(Duration::from_secs(2), "the next run to start", || {
        let run = setup.run(&next);
        if run["status"] == "CREATED" { Err(format!("{run:#}")) } else { Ok(()) }
    });
    assert_eq!(setup.run(&stuck)["status"], "CANCELED");
    setup.assert_serving();
}

#[test]
fn sigterm_during_an_index_build_ends_the_server_well_within_its_grace() {
    let mut setup = Setup::start_with(40_000, 64, "[server]\nshutdown_timeout_seconds = 30\n");
    let slow = setup.trigger("slow-index", json!({"type": "hnsw", "m": 64, "ef_construct": 2000}), json!({}));
    setup.wait_for_phase(&slow, "index", false);
    signal(setup.server.pid(), "TERM");
    // The child is asked to stop, then killed after the 500 ms grace; the server records the run
    // as interrupted and exits, long before its 30 s grace for requests.
    wait_for(Duration::from_secs(10), "the server to exit", || match setup.server.exited() {
        Some(code) => Ok(code),
        None => Err(setup.server.output()),
    });
    let output = setup.server.output();
    assert!(output.contains("qbench stopped"), "{output}");
}
