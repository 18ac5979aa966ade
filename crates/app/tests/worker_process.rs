//! The `qbench` processes of a scaled-out set-up: an API-only `qbench serve` and `qbench worker`s
//! on one SQLite data dir. A worker killed mid-run (SIGKILL, so it records nothing) leaves its run
//! `RUNNING` under a lease nobody renews; the next worker's sweep fails that run as `worker lost`,
//! naming the dead worker, within a few lease periods, and drops the collection it left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use support::{Process, http, post, wait_for};

#[test]
fn a_killed_workers_run_is_failed_as_worker_lost_by_the_next_worker() {
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let config = logs.path().join("qbench.toml");
    // The server executes nothing, so the run goes to the worker; a short lease and heartbeat
    // make a lost worker show quickly.
    std::fs::write(&config, "[worker]\nenabled = false\nlease_seconds = 2\nheartbeat_ms = 200\n").unwrap();

    let generated = Command::new(env!("CARGO_BIN_EXE_qbench"))
        .env_clear()
        .env("QBENCH_DATA_DIR", data.path())
        .args(["dataset", "generate", "--rows", "20000", "--queries", "20", "--neighbors", "10"])
        .args(["--vectors", "v:16:Cosine", "--out"])
        .arg(data.path().join("ds"))
        .output()
        .unwrap();
    assert!(generated.status.success(), "qbench dataset generate: {}", String::from_utf8_lossy(&generated.stderr));

    let (_server, port) = Process::serve(data.path(), &config, logs.path());

    let dataset = post(
        port,
        "/api/v1/datasets?inspect=true",
        &json!({"name": "ds", "source_uri": "ds/", "schema_config": {"vectors": {"v": {"dim": 16, "distance": "Cosine"}}}}),
        201,
    );
    let (status, connections) = http(port, "GET", "/api/v1/connections", &[], None);
    assert_eq!(status, 200, "{connections:#}");
    let embedded = connections.as_array().unwrap().iter().find(|c| c["builtin"] == json!(true)).unwrap()["id"].clone();
    // One point per upsert: an upload long enough to be caught (and killed) under way.
    let experiment = post(
        port,
        "/api/v1/experiments",
        &json!({
            "name": "slow-upload", "dataset_id": dataset["id"], "connection_id": embedded,
            "optimizer_config": {"indexing": {"v": {"type": "hnsw", "m": 16, "ef_construct": 100}}},
            "search_config": {"k": 10, "hnsw_ef": [64]},
            "upload_config": {"batch_size": 1, "parallel": 1}
        }),
        201,
    );
    let (status, created) =
        http(port, "POST", &format!("/api/v1/experiments/{}/runs", experiment["id"].as_str().unwrap()), &[], None);
    assert_eq!(status, 202, "{created:#}");
    let run_path = format!("/api/v1/runs/{}", created["run_id"].as_str().unwrap());
    let run = || http(port, "GET", &run_path, &[], None).1;

    let mut doomed = Process::start("worker-1", data.path(), &config, logs.path(), &[], &["worker"]);
    // Its heartbeat has written upload progress: the worker is alive, holds the lease, and is
    // mid-run.
    let running = wait_for(Duration::from_secs(120), "the run to be uploading", || {
        doomed.assert_running();
        let run = run();
        assert!(matches!(run["status"].as_str(), Some("CREATED" | "RUNNING")), "{run:#}\n{}", doomed.output());
        let progress = &run["progress"];
        if run["status"] == "RUNNING" && progress["phase"] == "upload" && progress["done"].as_u64() > Some(0) {
            Ok(run)
        } else {
            Err(format!("{run:#}\n{}", doomed.output()))
        }
    });
    let run_id = running["id"].as_str().unwrap().to_owned();
    let collection_dir = data.path().join("engine").join(format!("qbench-{run_id}"));
    assert!(collection_dir.is_dir(), "the doomed worker's collection is on disk: {}", collection_dir.display());
    let doomed_pid = doomed.pid();
    doomed.kill();
    assert!(running["error"].is_null(), "{running:#}");

    let mut next = Process::start("worker-2", data.path(), &config, logs.path(), &[], &["worker"]);
    let ended = wait_for(Duration::from_secs(60), "the lost run to be failed", || {
        next.assert_running();
        let run = run();
        if run["status"] == "RUNNING" { Err(format!("{run:#}\n{}", next.output())) } else { Ok(run) }
    });
    assert_eq!(ended["status"], "FAILED", "{ended:#}");
    let error = ended["error"].as_str().unwrap();
    assert!(error.starts_with("worker lost: "), "{error}");
    assert!(error.contains(&format!("-{doomed_pid} stopped renewing its lease")), "the dead worker is named: {error}");
    assert!(ended["end_time"].is_string() && ended["metrics"].is_null(), "{ended:#}");
    wait_for(Duration::from_secs(30), "the lost run's collection to be dropped", || {
        if collection_dir.exists() { Err(next.output()) } else { Ok(()) }
    });
}
