//! Many workers on one PostgreSQL: three `qbench worker` processes and an API-only `qbench serve`.
//! Every job is executed exactly once; a job submitted through the server starts on a worker of
//! another process within a second (LISTEN/NOTIFY: the workers' poll interval is a minute); a
//! worker killed with SIGKILL mid-job loses it to another worker within the lease.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use qbench_testkit::postgres::PostgresCluster;
use serde_json::{Value, json};

use support::{Process, http, post, wait_for};

const WORKERS: [&str; 3] = ["worker-1", "worker-2", "worker-3"];

fn jobs(port: u16) -> Vec<Value> {
    let (status, listed) = http(port, "GET", "/api/v1/jobs?all=true&limit=1000&kind=noop", &[], None);
    assert_eq!(status, 200, "{listed:#}");
    listed.as_array().unwrap().clone()
}

fn time(job: &Value, field: &str) -> DateTime<Utc> {
    job[field].as_str().unwrap_or_else(|| panic!("{field} of {job:#}")).parse().unwrap()
}

#[test]
fn three_workers_on_postgres_execute_each_job_once_start_within_a_second_and_survive_a_kill() {
    let Ok(cluster) = PostgresCluster::start() else {
        return eprintln!("skipped: no PostgreSQL server binaries (make deps installs them)");
    };
    let url = cluster.create_database("scale_out").unwrap();
    let data = tempfile::tempdir().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let server_config = logs.path().join("server.toml");
    std::fs::write(&server_config, format!("[database]\nurl = \"{url}\"\n\n[worker]\nenabled = false\n")).unwrap();
    // A poll interval of a minute: jobs can only start in time if the NOTIFY wakes the workers.
    let worker_config = logs.path().join("worker.toml");
    std::fs::write(
        &worker_config,
        format!(
            "[database]\nurl = \"{url}\"\n\n[worker]\nlease_seconds = 2\nheartbeat_ms = 200\npoll_ms = 60000\nmax_concurrent_jobs = 2\n"
        ),
    )
    .unwrap();
    let (_server, port) = Process::serve(data.path(), &server_config, logs.path());
    // The first worker serves its probes: liveness and its job durations.
    let probe_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let mut workers: Vec<Process> = WORKERS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let env: &[(&str, &str)] = if i == 0 { &[("QBENCH_WORKER__HTTP_PORT", probe_port.as_str())] } else { &[] };
            Process::start(name, data.path(), &worker_config, logs.path(), env, &["worker"])
        })
        .collect();
    for worker in &mut workers {
        wait_for(Duration::from_secs(60), "the worker to start", || {
            worker.assert_running();
            let output = worker.output();
            if output.contains("\"message\":\"worker started\"") && output.contains("\"notifications\":true") {
                Ok(())
            } else {
                Err(output)
            }
        });
    }
    // Let the listeners settle. A job submitted to idle workers that poll once a minute starts
    // within a second: the NOTIFY woke them. Five times, one job at a time.
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..5 {
        let probe = post(port, "/api/v1/jobs/noop", &json!({"steps": 0}), 202);
        let path = format!("/api/v1/jobs/{}", probe["id"].as_str().unwrap());
        let started = wait_for(Duration::from_secs(10), "the probe job to start", || {
            let (_, job) = http(port, "GET", &path, &[], None);
            if job["start_time"].is_string() { Ok(job) } else { Err(format!("{job:#}")) }
        });
        let waited = (time(&started, "start_time") - time(&started, "created_at")).as_seconds_f64();
        assert!(waited < 1.0, "a job waited {waited:.3} s for idle workers polling once a minute: {started:#}");
    }
    // 30 jobs at once: each executed exactly once.
    for _ in 0..30 {
        post(port, "/api/v1/jobs/noop", &json!({"steps": 2, "step_ms": 20}), 202);
    }
    let ended = wait_for(Duration::from_secs(60), "35 jobs to complete", || {
        let listed = jobs(port);
        let done = listed.iter().filter(|job| job["status"] == "COMPLETED").count();
        if done == 35 { Ok(listed) } else { Err(format!("{done} of 35 completed: {listed:?}")) }
    });
    let mut by_worker: BTreeMap<String, usize> = BTreeMap::new();
    let mut waits: Vec<f64> = Vec::new();
    for job in &ended {
        assert_eq!(job["attempts"], 1, "each job executed exactly once: {job:#}");
        assert_eq!(job["result"]["attempt"], 1, "{job:#}");
        *by_worker.entry(job["claimed_by"].as_str().unwrap().to_owned()).or_default() += 1;
        waits.push((time(job, "start_time") - time(job, "created_at")).as_seconds_f64());
    }
    waits.sort_by(f64::total_cmp);
    eprintln!(
        "submit to start of 35 jobs on 3 workers: median {:.3} s, max {:.3} s; per worker {by_worker:?}",
        waits[waits.len() / 2],
        waits[waits.len() - 1]
    );
    assert!(by_worker.len() >= 2, "the jobs spread over the workers: {by_worker:?}");

    // The first worker's probes: alive, and the durations of the jobs it ended.
    let probe_port: u16 = probe_port.parse().unwrap();
    let first = workers[0].pid();
    let mine = ended.iter().filter(|job| job["claimed_by"].as_str().unwrap().ends_with(&format!("-{first}"))).count();
    assert_eq!(http(probe_port, "GET", "/health", &[], None).0, 200);
    let (status, metrics) = support::http_text(probe_port, "GET", "/metrics", &[], None);
    assert_eq!(status, 200);
    let count = format!("qbench_job_duration_seconds_count{{kind=\"noop\",status=\"COMPLETED\"}} {mine}");
    assert!(mine == 0 || metrics.contains(&count), "expected `{count}` in:\n{metrics}");

    // The system metadata lists the three workers.
    let (status, system) = http(port, "GET", "/api/v1/metadata/system", &[], None);
    assert_eq!(status, 200, "{system:#}");
    assert_eq!(system["workers"].as_array().unwrap().len(), 3, "{system:#}");

    // A worker killed mid-job: another one takes the job over within the lease and finishes it.
    let long = post(port, "/api/v1/jobs/noop", &json!({"steps": 60, "step_ms": 50}), 202);
    let id = long["id"].as_str().unwrap().to_owned();
    let holder = wait_for(Duration::from_secs(10), "the long job to run", || {
        let (_, job) = http(port, "GET", &format!("/api/v1/jobs/{id}"), &[], None);
        if job["status"] == "RUNNING" && job["progress"]["done"].as_u64().unwrap_or(0) >= 3 {
            Ok(job["claimed_by"].as_str().unwrap().to_owned())
        } else {
            Err(format!("{job:#}"))
        }
    });
    let victim = workers.iter().position(|worker| holder.ends_with(&format!("-{}", worker.pid()))).unwrap();
    workers[victim].kill();
    let finished = wait_for(Duration::from_secs(20), "another worker to finish the lost job", || {
        let (_, job) = http(port, "GET", &format!("/api/v1/jobs/{id}"), &[], None);
        if job["status"] == "COMPLETED" { Ok(job) } else { Err(format!("{job:#}")) }
    });
    assert_eq!(finished["attempts"], 2, "{finished:#}");
    assert_ne!(finished["claimed_by"].as_str().unwrap(), holder, "{finished:#}");
    assert!(finished["result"]["attempt"] == 2, "{finished:#}");
}
