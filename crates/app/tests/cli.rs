//! The `qbench` binary as a user runs it: flags, configuration errors, start-up and graceful shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

fn qbench() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qbench"));
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    command
}

/// Generates a dataset under `data/ds` with the `dataset generate` arguments `args`.
fn generate_dataset(data: &std::path::Path, args: &[&str]) {
    let generate = qbench()
        .env("QBENCH_DATA_DIR", data)
        .args(["dataset", "generate"])
        .args(args)
        .arg("--out")
        .arg(data.join("ds"))
        .output()
        .unwrap();
    assert!(generate.status.success(), "{}", String::from_utf8_lossy(&generate.stderr));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[test]
fn version_and_help_describe_the_binary() {
    let version = qbench().arg("--version").output().unwrap();
    assert!(version.status.success());
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("qbench {}", env!("CARGO_PKG_VERSION")));

    let help = qbench().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("serve") && help.contains("--config"), "{help}");
    let serve_help = qbench().args(["serve", "--help"]).output().unwrap();
    let serve_help = String::from_utf8_lossy(&serve_help.stdout);
    assert!(serve_help.contains("--port") && serve_help.contains("--bind"), "{serve_help}");
}

#[test]
fn invalid_configuration_stops_start_up_with_one_line_naming_the_key() {
    for (name, value, key) in [
        ("PORT", "eighty", "server.port"),
        ("DATABASE_URL", "mysql://db/qbench", "DATABASE_URL"),
        ("QBENCH_SECRET_KEY", "bm90LTMyLWJ5dGVz", "QBENCH_SECRET_KEY"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let output = qbench().env("QBENCH_DATA_DIR", data.path()).env(name, value).arg("serve").output().unwrap();
        assert!(!output.status.success(), "{name}={value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{name}: {stderr}");
        assert!(lines[0].starts_with("qbench: ") && lines[0].contains(key), "{name}: {stderr}");
    }
}

#[test]
fn a_missing_config_file_is_named() {
    let output = qbench().args(["--config", "/nonexistent/qbench.toml", "serve"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/qbench.toml"));
}

/// Reads JSON log lines until one has `message`, returning it.
fn wait_for_line(reader: &mut BufReader<ChildStdout>, message: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("qbench's output ended before a `{message}` log line");
        }
        if line.contains(&format!("\"message\":\"{message}\"")) {
            return line;
        }
    }
}

fn wait_for_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            return exit;
        }
        assert!(Instant::now() < deadline, "qbench did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_starts_on_embedded_defaults_and_stops_gracefully_on_sigterm() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = qbench()
        .env("QBENCH_DATA_DIR", data.path())
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let listening = wait_for_line(&mut stdout, "qbench listening");
    assert!(listening.contains(&format!("127.0.0.1:{port}")), "{listening}");
    assert!(data.path().join("qbench.db").exists(), "the SQLite database is created under the data dir");
    assert!(data.path().join("secret.key").exists(), "a secret key is generated into the data dir");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let exit = wait_for_exit(&mut child);
    assert!(exit.success(), "{exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("\"message\":\"qbench stopped\""), "{rest}");
}

#[test]
fn api_key_commands_fail_with_one_line() {
    let data = tempfile::tempdir().unwrap();
    let secret_key = format!("{}=", "A".repeat(43));
    let run = |args: &[&str]| {
        let output = qbench()
            .env("QBENCH_DATA_DIR", data.path())
            .env("QBENCH_SECRET_KEY", &secret_key)
            .args(args)
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // Regression (issue 14): listing in the wrong directory created a database and a secret key.
    let (code, _, stderr) = run(&["admin", "api-key", "list"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("qbench: no qbench database at ") && stderr.contains("QBENCH_DATA_DIR"), "{stderr}");
    assert!(!data.path().join("qbench.db").exists() && !data.path().join("secret.key").exists());

    let (code, _, stderr) = run(&["admin", "api-key", "create", "--user", "ci", "--role", "viewer"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stdout, _) = run(&["admin", "api-key", "list"]);
    assert_eq!(code, Some(0));
    assert!(stdout.lines().any(|line| line.contains(" ci ") && line.contains("viewer")), "{stdout}");

    let unknown = "0190b3c2-0000-7000-8000-000000000000";
    let (code, _, stderr) = run(&["admin", "api-key", "revoke", unknown]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim(), format!("qbench: API key {unknown} not found"));

    let (code, _, stderr) = run(&["admin", "api-key", "create", "--user", "ci", "--role", "viewer", "--expires", "0s"]);
    assert_eq!(code, Some(1));
    assert_eq!(stderr.trim(), "qbench: invalid input: expires: must be longer than zero");

    let (code, _, stderr) = run(&["admin", "api-key", "create", "--user", "ci", "--role", "root"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("`root` is not a role: use viewer, editor or admin"), "{stderr}");
    let (code, _, stderr) =
        run(&["admin", "api-key", "create", "--user", "ci", "--role", "viewer", "--expires", "soon"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--expires"), "{stderr}");
}

/// Regression (issue 12): a server or worker started with another key, or a generated one, on
/// the deployment's database read every stored credential as corrupt; now it does not start,
/// saying in one line which variable to fix.
#[test]
fn another_secret_key_read_credentials_as_corrupt_and_now_stops_start_up_naming_qbench_secret_key() {
    let shared = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", shared.path().join("shared.db").display());
    let deployment_key = format!("{}=", "A".repeat(43));
    let other_key = format!("{}=", "B".repeat(43));
    let data = tempfile::tempdir().unwrap();
    let with_key = |key: Option<&str>| {
        let mut command = qbench();
        command.env("QBENCH_DATA_DIR", data.path()).env("DATABASE_URL", &database_url);
        if let Some(key) = key {
            command.env("QBENCH_SECRET_KEY", key);
        }
        command
    };
    let first = with_key(Some(&deployment_key))
        .args(["admin", "api-key", "create", "--user", "ci", "--role", "viewer"])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));

    for (key, command) in [(Some(other_key.as_str()), "serve"), (Some(other_key.as_str()), "worker"), (None, "serve")] {
        let port = free_port().to_string();
        let args = if command == "serve" { vec![command, "--port", &port] } else { vec![command] };
        let output = with_key(key).args(args).output().unwrap();
        assert!(!output.status.success(), "`qbench {command}` with key {key:?} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{command} with key {key:?}: {stderr}");
        assert!(lines[0].starts_with("qbench: ") && lines[0].contains("QBENCH_SECRET_KEY"), "{stderr}");
    }
    let again = with_key(Some(&deployment_key)).args(["admin", "api-key", "list"]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn tune_measures_a_grid_and_prints_the_recommendation_as_qdrant_json() {
    let data = tempfile::tempdir().unwrap();
    generate_dataset(
        data.path(),
        &["--rows", "1500", "--queries", "20", "--neighbors", "10", "--vectors", "v:16:Cosine"],
    );
    let json = data.path().join("study.json");
    let tune = qbench()
        .env("QBENCH_DATA_DIR", data.path())
        .env("QBENCH_WORKER__SEARCH_SECONDS", "0")
        .args(["tune", "--dataset"])
        .arg(data.path().join("ds"))
        .args(["--vectors", "v:16:Cosine", "--target-recall", "0.9", "--m", "8,16", "--ef-construct", "32"])
        .args(["--hnsw-ef", "16,64", "--repetitions", "2", "--json"])
        .arg(&json)
        .arg("--html")
        .arg(data.path().join("study.html"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&tune.stdout);
    assert!(tune.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&tune.stderr));
    assert!(stdout.contains("2 of the grid's 2 builds made on all the points, 0 on samples"), "{stdout}");
    assert!(stdout.contains("PUT /collections/{name}") && stdout.contains("\"hnsw_config\""), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["points"].as_array().unwrap().len(), 4, "{report:#}");
    let page = std::fs::read_to_string(data.path().join("study.html")).unwrap();
    assert!(page.contains(r#"data-chart="recall-qps" data-points="4""#) && page.contains("qdrant-collection"));
    let recommendation = &report["recommendation"];
    let point = &report["points"][recommendation["point"].as_u64().unwrap() as usize];
    assert_eq!(recommendation["qdrant"]["search_params"]["hnsw_ef"], point["setting"]["hnsw_ef"], "{report:#}");

    // A bad flag is one line naming it, and a non-zero exit.
    let bad = qbench()
        .env("QBENCH_DATA_DIR", data.path())
        .args(["tune", "--dataset"])
        .arg(data.path().join("ds"))
        .args(["--vectors", "v:16:Cosine", "--target-recall", "0.9", "--quantization", "int4"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(stderr.lines().count() == 1 && stderr.contains("--quantization"), "{stderr}");
}

#[test]
fn a_failing_bench_prints_one_line_not_also_its_log() {
    let data = tempfile::tempdir().unwrap();
    let bench = qbench()
        .env("QBENCH_DATA_DIR", data.path())
        .args(["bench", "--dataset"])
        .arg(data.path().join("missing"))
        .args(["--vectors", "v:16:Cosine"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&bench.stderr);
    assert!(!bench.status.success());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("qbench: --dataset"), "{stderr}");
}

/// Regression (issue 14): a bench or tune refused by validation named API fields
/// (`search_config.hnsw_ef[0]`); now the flags.
#[test]
fn a_refused_bench_or_tune_names_its_flags() {
    let data = tempfile::tempdir().unwrap();
    generate_dataset(data.path(), &["--rows", "300", "--queries", "10", "--vectors", "v:8:Cosine"]);
    let refused = |args: &[&str]| {
        let output = qbench()
            .env("QBENCH_DATA_DIR", data.path())
            .arg(args[0])
            .arg("--dataset")
            .arg(data.path().join("ds"))
            .args(["--vectors", "v:8:Cosine"])
            .args(&args[1..])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1));
        String::from_utf8_lossy(&output.stderr).trim().to_owned()
    };
    assert_eq!(refused(&["bench", "--hnsw-ef", "5", "--k", "10"]), "qbench: --hnsw-ef: hnsw_ef 5 is smaller than k 10");
    let tune = refused(&["tune", "--target-recall", "1.5", "--m", "1000"]);
    assert!(tune.starts_with("qbench: --m: ") && tune.contains("; --target-recall: "), "{tune}");
}

#[test]
fn compare_aligns_two_bench_results_and_exits_1_when_a_gate_fails() {
    let data = tempfile::tempdir().unwrap();
    generate_dataset(
        data.path(),
        &["--rows", "1000", "--queries", "20", "--neighbors", "10", "--vectors", "v:16:Cosine"],
    );
    let baseline = data.path().join("baseline.json");
    let bench = qbench()
        .env("QBENCH_DATA_DIR", data.path())
        .env("QBENCH_WORKER__SEARCH_SECONDS", "0")
        .args(["bench", "--dataset"])
        .arg(data.path().join("ds"))
        .args(["--vectors", "v:16:Cosine", "--hnsw-ef", "16,64", "--repetitions", "2", "--json"])
        .arg(&baseline)
        .output()
        .unwrap();
    assert!(bench.status.success(), "{}", String::from_utf8_lossy(&bench.stderr));
    // Regression (issue 14): the JSON pointed at artifacts in a deleted scratch directory; they are
    // kept beside it now, with the run's log.
    let mut report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    let stored = report["result_files"]["queries_parquet"].as_str().unwrap().trim_start_matches("file://").to_owned();
    let stored = std::path::Path::new(&stored);
    assert!(stored.exists() && stored.starts_with(data.path().join("baseline-artifacts")), "{}", stored.display());
    assert!(stored.with_file_name("log.jsonl").exists() && stored.with_file_name("result.json").exists());
    assert!(String::from_utf8_lossy(&bench.stdout).contains("baseline-artifacts"));
    // And its report page, named on stdout.
    let page = stored.with_file_name("report.html");
    assert!(std::fs::read_to_string(&page).unwrap().contains(r#"data-chart="recall-qps" data-points="2""#));
    assert!(
        String::from_utf8_lossy(&bench.stdout)
            .contains(&format!("report (one page, charts included): {}", page.display()))
    );
    // The candidate: the same run, half as fast and with less recall at hnsw_ef=16.
    for result in report["results"].as_array_mut().unwrap() {
        result["qps"] = serde_json::json!(result["qps"].as_f64().unwrap() / 2.0);
        if result["setting"] == "hnsw_ef=16" {
            result["recall"] = serde_json::json!(result["recall"].as_f64().unwrap() - 0.05);
        }
    }
    let candidate = data.path().join("candidate.json");
    std::fs::write(&candidate, report.to_string()).unwrap();

    let page = data.path().join("compare.html");
    let same = qbench()
        .arg("compare")
        .arg(&baseline)
        .arg(&baseline)
        .args(["--min-qps-ratio", "0.9", "--html"])
        .arg(&page)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&same.stdout);
    assert!(same.status.success(), "{stdout}{}", String::from_utf8_lossy(&same.stderr));
    // The two runs side by side as a page: both cards, every setting of both drawn.
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("class=\"card\" data-run=").count(), 2, "{html}");
    assert!(html.contains(r#"data-chart="recall-qps" data-points="4""#), "{html}");
    assert_eq!(stdout.lines().filter(|line| line.starts_with("v ")).count(), 2, "{stdout}");

    let gated = qbench()
        .arg("compare")
        .arg(&baseline)
        .arg(&candidate)
        .args(["--max-recall-drop", "0.005", "--max-p99-increase", "10%", "--min-qps-ratio", "0.9"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&gated.stdout);
    let stderr = String::from_utf8_lossy(&gated.stderr);
    assert_eq!(gated.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("FAIL v hnsw_ef=16 ×1: recall dropped by 0.0500"), "{stdout}");
    assert_eq!(stdout.matches("QPS ratio 0.500").count(), 2, "{stdout}");
    assert_eq!(stderr.trim(), "qbench: 3 gate(s) failed");

    let bad =
        qbench().arg("compare").arg(&baseline).arg(&candidate).args(["--max-p99-increase", "ten"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success() && stderr.lines().count() == 1 && stderr.contains("--max-p99-increase"), "{stderr}");
}

/// Regression (issue 14): `--keep-collection` on the embedded engine kept the collection in bench's
/// scratch directory, deleted as the command ended; now it is kept beside `--json`, or refused.
#[test]
fn keep_collection_keeps_the_embedded_collection_beside_the_json_or_says_why_not() {
    let data = tempfile::tempdir().unwrap();
    generate_dataset(data.path(), &["--rows", "300", "--queries", "10", "--vectors", "v:8:Cosine"]);
    let bench = |json: Option<&std::path::Path>| {
        let mut command = qbench();
        command
            .env("QBENCH_DATA_DIR", data.path())
            .env("QBENCH_WORKER__SEARCH_SECONDS", "0")
            .args(["bench", "--dataset"])
            .arg(data.path().join("ds"))
            .args(["--vectors", "v:8:Cosine", "--hnsw-ef", "16", "--repetitions", "1", "--keep-collection"]);
        if let Some(json) = json {
            command.arg("--json").arg(json);
        }
        command.output().unwrap()
    };
    let refused = bench(None);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("qbench: --keep-collection: ") && stderr.contains("--json"), "{stderr}");

    let kept = bench(Some(&data.path().join("kept.json")));
    let stdout = String::from_utf8_lossy(&kept.stdout);
    assert!(kept.status.success(), "{stdout}{}", String::from_utf8_lossy(&kept.stderr));
    let line = stdout.lines().find_map(|line| line.strip_prefix("collection kept: ")).expect("the kept collection");
    let collection = std::path::Path::new(line);
    assert!(collection.is_dir() && collection.starts_with(data.path().join("kept-artifacts/engine")), "{line}");
}
