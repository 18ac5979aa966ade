//! The README's walkthrough, run as written: from a sample dataset generated on this machine to a
//! completed run and its report page, against a real `qbench serve` (this build's binary stands in
//! for `target/release/qbench`, and the test starts the server `make run` would).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::process::Command;

use support::Process;

/// The walkthrough's commands: the shell block after the `<!-- walkthrough -->` marker.
fn walkthrough() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let after = readme.split("<!-- walkthrough -->").nth(1).expect("the README marks its walkthrough");
    let block = after.split("```sh\n").nth(1).unwrap().split("\n```").next().unwrap();
    block.lines().map(str::to_owned).collect()
}

#[test]
fn the_readme_leads_from_a_fresh_clone_to_a_completed_run_and_its_report() {
    let lines = walkthrough();
    assert!(lines[0].starts_with("make run & make wait"), "the walkthrough starts the server: {}", lines[0]);
    let dir = tempfile::tempdir().unwrap();
    // `make run` builds target/release/qbench and serves on ./data; this build's binary stands in.
    std::fs::create_dir_all(dir.path().join("target/release")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_qbench"), dir.path().join("target/release/qbench")).unwrap();
    let config = dir.path().join("qbench.toml");
    std::fs::write(&config, "").unwrap();
    let (server, port) = Process::serve(&dir.path().join("data"), &config, dir.path());

    let script = format!("set -eu\n{}\n", lines[1..].join("\n"));
    let output = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QBENCH_URL", format!("http://127.0.0.1:{port}"))
        .output()
        .unwrap();
    drop(server);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{script}\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let report_url =
        stdout.split("\"report_url\":\"").nth(1).expect("the run completed with a report").split('"').next().unwrap();
    assert!(report_url.contains("/report.html?expires="), "{stdout}");
    assert!(stdout.contains("/ui/runs/"), "{stdout}");
}
