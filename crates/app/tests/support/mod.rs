//! Driving the `qbench` binary from tests: a process guard that never leaves one behind, polling
//! with a deadline, and one-shot HTTP requests without a client library.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A `qbench` process, killed (and reaped) when dropped, so that a failing test leaves none behind.
pub(crate) struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `qbench <args>` on `data` with `config` and `env`, its output going to
    /// `<logs>/<name>.log`.
    pub(crate) fn start(
        name: &'static str,
        data: &Path,
        config: &Path,
        logs: &Path,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Self {
        let log = logs.join(format!("{name}.log"));
        let output = File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_qbench"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("QBENCH_DATA_DIR", data)
            // One pass over the queries per repetition, two repetitions: fast runs.
            .env("QBENCH_WORKER__SEARCH_SECONDS", "0")
            .env("QBENCH_WORKER__REPETITIONS", "2")
            .envs(env.iter().copied())
            .arg("--config")
            .arg(config)
            .args(args)
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .unwrap();
        Self { name, child, log }
    }

    /// Starts `qbench serve` on a free port and waits until it listens; answers it and the port.
    pub(crate) fn serve(data: &Path, config: &Path, logs: &Path) -> (Self, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut server = Self::start("serve", data, config, logs, &[], &["serve", "--port", &port.to_string()]);
        wait_for(Duration::from_secs(60), "qbench serve to listen", || {
            server.assert_running();
            let output = server.output();
            if output.contains("\"message\":\"qbench listening\"") { Ok(()) } else { Err(output) }
        });
        (server, port)
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the process has written so far.
    pub(crate) fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics, showing the output, unless the process is still running.
    #[track_caller]
    pub(crate) fn assert_running(&mut self) {
        if let Some(exit) = self.child.try_wait().unwrap() {
            panic!("qbench {} exited ({exit}):\n{}", self.name, self.output());
        }
    }

    /// The exit code, once the process has ended (-1 for a signal).
    pub(crate) fn exited(&mut self) -> Option<i32> {
        self.child.try_wait().unwrap().map(|status| status.code().unwrap_or(-1))
    }

    /// Kills the process with SIGKILL, as the OOM killer or a lost machine would, and reaps it.
    pub(crate) fn kill(&mut self) {
        drop(self.child.kill());
        drop(self.child.wait());
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 50 ms until it answers `Ok`; after `limit`, fails naming `what` and showing
/// the last `Err` (the state seen instead).
#[track_caller]
pub(crate) fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        match check() {
            Ok(found) => return found,
            Err(seen) => assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}:\n{seen}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port`; answers the status and the body parsed as JSON
/// (`Null` when it is not JSON). No client library: the app's tests have none, and one request per
/// connection is all this needs.
pub(crate) fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, Value) {
    let (status, text) = http_text(port, method, path, headers, body);
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// [`http`], answering the body as text.
pub(crate) fn http_text(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let payload = body.map(|body| serde_json::to_vec(body).unwrap()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if body.is_some() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(&payload).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_else(|| panic!("not an HTTP response: {response}"));
    assert!(!head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "a chunked reply: {head}");
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    (status, body.to_owned())
}

/// POSTs `body` to `path`, asserting `expected`, and returns the reply's body.
#[track_caller]
pub(crate) fn post(port: u16, path: &str, body: &Value, expected: u16) -> Value {
    let (status, reply) = http(port, "POST", path, &[], Some(body));
    assert_eq!(status, expected, "POST {path}: {reply:#}");
    reply
}
