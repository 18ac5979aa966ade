//! A throwaway PostgreSQL cluster for tests.
//!
//! [`PostgresCluster::start`] creates a brand-new cluster with `initdb` in a
//! fresh temporary directory, starts it on a free port of 127.0.0.1 and hands
//! back connection URLs. Dropping the value stops the server with
//! `pg_ctl stop -m immediate` and removes the directory, so every test run
//! begins from an empty cluster and leaves nothing behind.
//!
//! The server binaries are looked up in `$QBENCH_PG_BIN_DIR` when that is set,
//! otherwise in `/usr/lib/postgresql/<version>/bin` (newest version first) and
//! finally on `PATH`. PostgreSQL refuses to run as root, so when the tests run
//! as root the server tools are run as the `postgres` OS user through
//! `runuser` (or `su` where `runuser` is missing) and the temporary directory
//! is handed over to that user.
//!
//! Because a test process can die without running destructors (a `SIGKILL`
//! from a timeout, a cluster kept in a `static`, `std::process::exit`), every
//! cluster is also watched by a tiny shell process that notices when the test
//! process is gone and then stops the server and removes the directory. A
//! stale server is therefore never left running.

use crate::watchdog::Watchdog;
use std::env;
use std::error::Error;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::{MetadataExt, PermissionsExt, chown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Environment variable that points at a directory holding `initdb` and
/// `pg_ctl`, for machines where the default locations do not apply.
const BIN_DIR_ENV: &str = "QBENCH_PG_BIN_DIR";

/// Where Debian-style packages install one directory per major version.
const VERSIONED_INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// The database superuser that `initdb` creates and the URLs log in as.
const SUPERUSER: &str = "qbench";

/// The OS account the server runs under when the tests run as root.
const SERVER_OS_USER: &str = "postgres";

/// How often start is retried when another process grabbed the chosen port
/// between picking it and the server binding it.
const START_ATTEMPTS: u32 = 5;

/// Upper bound for `initdb`; it normally takes a second or two with
/// `--no-sync`, but a loaded CI machine can be much slower.
const INITDB_TIMEOUT: Duration = Duration::from_secs(180);

/// How long `pg_ctl start -w` itself waits for the server to accept
/// connections.
const PG_CTL_START_WAIT_SECS: u64 = 90;

/// Extra time granted on top of `pg_ctl`'s own wait before the fixture kills
/// it, so that `pg_ctl` normally reports the problem itself.
const PG_CTL_GRACE: Duration = Duration::from_secs(30);

/// How long `pg_ctl stop -m immediate` may take; an immediate stop is a
/// signal plus a short wait, so this only matters when something is wrong.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// How long to wait for a killed server process to disappear.
const KILL_WAIT: Duration = Duration::from_secs(10);

/// Upper bound for client tools such as `createdb` against a local server.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// How long to keep collecting output after a command exited, in case a
/// process it left behind still holds its stdout or stderr open.
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// How often a running command is polled for completion.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// How many trailing lines of a log or of command output go into errors.
const TAIL_LINES: usize = 40;

/// Longest path a Unix-domain socket may have on Linux, minus the
/// terminating NUL byte.
const MAX_SOCKET_PATH: usize = 107;

/// The watchdog that stops the server and removes the cluster directory once
/// the test process is gone.
///
/// It blocks reading its stdin, a pipe whose only writer is the test process.
/// When the test process exits or is killed, the pipe closes and `read`
/// returns; when the fixture is dropped normally, it writes `OWNER_CLEANS_UP`
/// first so that the watchdog only double-checks the server and leaves the
/// directory to [`TempDir`]. The server is only signalled when its command
/// line names this cluster's data directory, so a recycled process id is
/// never hit. Terminal signals are ignored because Ctrl-C reaches the whole
/// foreground process group, and the watchdog must outlive the test process.
const WATCHDOG_SCRIPT: &str = r#"
trap '' HUP INT TERM QUIT PIPE
data=$1
root=$2
IFS= read -r verdict
pid=
if [ -f "$data/postmaster.pid" ]; then
  pid=$(head -n 1 "$data/postmaster.pid")
fi
alive() {
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
    tr '\000' '\n' < "/proc/$pid/cmdline" | grep -qxF -- "$data"
}
if alive; then
  kill -QUIT "$pid" 2>/dev/null
  n=0
  while alive && [ "$n" -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
  if alive; then kill -KILL "$pid" 2>/dev/null; fi
fi
if [ "$verdict" != "owner-cleans-up" ]; then
  rm -rf -- "$root"
fi
"#;

/// A PostgreSQL cluster of its own for one test run, removed when dropped.
///
/// The server listens on 127.0.0.1 only and trusts every connection, with
/// `qbench` as the superuser. It runs with `fsync=off`, which is fine for
/// throwaway data and keeps tests fast.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use qbench_testkit::postgres::PostgresCluster;
///
/// let cluster = PostgresCluster::start()?;
/// let url = cluster.create_database("orders")?;
/// // Connect to `url` with any PostgreSQL client; the cluster is stopped and
/// // deleted when `cluster` goes out of scope, even if the test panics.
/// # let _ = url;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct PostgresCluster {
    /// The temporary directory holding everything the cluster writes. It is an
    /// `Option` so that `Drop` can remove it explicitly and report failures.
    temp: Option<TempDir>,
    /// The root of the temporary directory, kept separately so that it is
    /// still known while `temp` is being removed.
    root: PathBuf,
    /// The cluster's data directory, created by `initdb`.
    data_dir: PathBuf,
    /// The directory holding the server's Unix-domain socket.
    socket_dir: PathBuf,
    /// The server log of the attempt that started the server.
    log_path: PathBuf,
    /// The directory holding `initdb`, `pg_ctl` and friends.
    bin_dir: PathBuf,
    /// How the server tools are run: directly, or as the `postgres` user.
    runner: Runner,
    /// The process that cleans up should this process die before `Drop`.
    watchdog: Option<Watchdog>,
    /// The TCP port the server listens on, or 0 before it has started.
    port: u16,
}

impl PostgresCluster {
    /// Creates and starts a new cluster, blocking until it accepts
    /// connections.
    ///
    /// This takes a few seconds, mostly spent in `initdb`. Tests that need
    /// many databases should start one cluster and call
    /// [`create_database`](Self::create_database) per test.
    ///
    /// # Errors
    ///
    /// Fails when the PostgreSQL binaries cannot be found, when running as
    /// root without a usable `postgres` user, or when `initdb` or the server
    /// fails; a failed start includes the tail of the server log. Whatever
    /// was created up to that point is stopped and removed.
    pub fn start() -> Result<Self, PostgresClusterError> {
        let bin_dir = find_bin_dir()?;
        let runner = Runner::detect()?;
        let base = temp_base(&runner)?;
        let temp = tempfile::Builder::new().prefix("qbench-pg-").tempdir_in(&base).map_err(|source| {
            PostgresClusterError::io(format!("creating a temporary directory in {}", base.display()), source)
        })?;
        let root = temp.path().to_path_buf();
        let data_dir = root.join("data");
        let socket_dir = root.join("sock");

        // The socket path is checked up front because the server's own error
        // for an overlong path only shows up in its log.
        let socket_path_len = socket_dir.as_os_str().len() + "/.s.PGSQL.65535".len();
        if socket_path_len > MAX_SOCKET_PATH {
            return Err(PostgresClusterError::Setup(format!(
                "the socket directory {} is too long for a Unix-domain socket; \
                 point TMPDIR at a shorter path",
                socket_dir.display()
            )));
        }
        fs::create_dir(&socket_dir)
            .map_err(|source| PostgresClusterError::io(format!("creating {}", socket_dir.display()), source))?;
        fs::set_permissions(&socket_dir, fs::Permissions::from_mode(0o700)).map_err(|source| {
            PostgresClusterError::io(format!("restricting permissions of {}", socket_dir.display()), source)
        })?;
        runner.hand_over(&root)?;
        runner.hand_over(&socket_dir)?;

        // The watchdog is armed before anything can start a server, so that
        // no later failure or crash can leave one behind.
        let watchdog = Watchdog::spawn(WATCHDOG_SCRIPT, "qbench-pg-watchdog", [&data_dir, &root])
            .map_err(|source| PostgresClusterError::io("starting the cleanup watchdog", source))?;

        // From here on the value exists, so every early return below goes
        // through `Drop`, which stops the server and removes the directory.
        let mut cluster = Self {
            temp: Some(temp),
            root,
            data_dir,
            socket_dir,
            log_path: PathBuf::new(),
            bin_dir,
            runner,
            watchdog: Some(watchdog),
            port: 0,
        };
        cluster.init()?;
        cluster.launch()?;
        Ok(cluster)
    }

    /// Returns the URL of the default `postgres` database, logged in as the
    /// `qbench` superuser: `postgres://qbench@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// Returns the URL of `database` on this cluster, whether or not it
    /// exists yet; characters that are not URL-safe are percent-encoded.
    pub fn url_for(&self, database: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{}", self.port, percent_encode(database))
    }

    /// Creates the database `name`, owned by the `qbench` superuser, and
    /// returns its URL.
    ///
    /// # Errors
    ///
    /// Fails when `createdb` fails, for instance because the database already
    /// exists; the error carries `createdb`'s output.
    pub fn create_database(&self, name: &str) -> Result<String, PostgresClusterError> {
        let port = self.port.to_string();
        let mut command = Command::new(client_program(&self.bin_dir, "createdb"));
        command
            .args(["--host", "127.0.0.1", "--port", &port])
            .args(["--username", SUPERUSER, "--maintenance-db", "postgres"])
            // `--` keeps a name that starts with a dash from being read as an
            // option.
            .arg("--")
            .arg(name)
            .current_dir(&self.root);
        scrub_libpq_env(&mut command);
        command.env("PGCONNECT_TIMEOUT", "10");
        run(command, CLIENT_TIMEOUT)?;
        Ok(self.url_for(name))
    }

    /// Returns the TCP port the server listens on at 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `initdb` to create the data directory.
    fn init(&self) -> Result<(), PostgresClusterError> {
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.data_dir.clone().into(),
            "-U".into(),
            SUPERUSER.into(),
            "-A".into(),
            "trust".into(),
            "--encoding=UTF8".into(),
            // The C locale exists everywhere, so the result does not depend
            // on which locales the machine happens to have installed.
            "--no-locale".into(),
            "--no-sync".into(),
        ];
        self.run_server_tool("initdb", &args, INITDB_TIMEOUT).map(drop)
    }

    /// Starts the server on a free port, retrying with another port when the
    /// chosen one was taken in the meantime.
    fn launch(&mut self) -> Result<(), PostgresClusterError> {
        for attempt in 1..=START_ATTEMPTS {
            let port = free_port()?;
            let log_path = self.root.join(format!("server-{attempt}.log"));
            // `pg_ctl` pastes these options into a shell command line, so the
            // socket directory is quoted byte for byte.
            let mut options = format!("-p {port} -k ").into_bytes();
            options.extend(shell_quote(self.socket_dir.as_os_str()));
            options.extend_from_slice(b" -c listen_addresses=127.0.0.1 -c fsync=off");
            let args: Vec<OsString> = vec![
                "-w".into(),
                "-t".into(),
                PG_CTL_START_WAIT_SECS.to_string().into(),
                "-D".into(),
                self.data_dir.clone().into(),
                "-l".into(),
                log_path.clone().into(),
                "-o".into(),
                OsString::from_vec(options),
                "start".into(),
            ];
            let timeout = Duration::from_secs(PG_CTL_START_WAIT_SECS) + PG_CTL_GRACE;
            let started = self.run_server_tool("pg_ctl", &args, timeout).and_then(|_| wait_for_tcp(port));
            let failure = match started {
                Ok(()) => {
                    self.port = port;
                    self.log_path = log_path;
                    return Ok(());
                }
                Err(failure) => failure,
            };

            // Whatever came up must not outlive a failed attempt.
            self.stop_server();
            let log = fs::read_to_string(&log_path).unwrap_or_default();
            let port_taken =
                log.contains("Address already in use") || log.contains("could not create any TCP/IP sockets");
            if !(port_taken && attempt < START_ATTEMPTS) {
                return Err(PostgresClusterError::StartFailed {
                    attempts: attempt,
                    reason: failure.to_string(),
                    log_tail: tail(&log, TAIL_LINES),
                });
            }
        }
        Err(PostgresClusterError::Setup("the server start was not attempted".to_owned()))
    }

    /// Runs one of the server tools from the bin directory with the
    /// privileges PostgreSQL insists on.
    fn run_server_tool(
        &self,
        tool: &str,
        args: &[OsString],
        timeout: Duration,
    ) -> Result<Output, PostgresClusterError> {
        let mut command = self.runner.command(&self.bin_dir.join(tool), args)?;
        // The tools run as another user when we are root, so the working
        // directory must be one that user can enter.
        command.current_dir(&self.root);
        scrub_libpq_env(&mut command);
        run(command, timeout)
    }

    /// Returns the process id recorded in `postmaster.pid`, if any.
    fn postmaster_pid(&self) -> Option<u32> {
        let contents = fs::read_to_string(self.data_dir.join("postmaster.pid")).ok()?;
        contents.lines().next()?.trim().parse().ok()
    }

    /// Stops the server if one is running, escalating to `SIGKILL` when
    /// `pg_ctl` cannot do it, and never fails: it runs on error paths and in
    /// `Drop`, where there is nobody left to report to.
    fn stop_server(&self) {
        let Some(pid) = self.postmaster_pid() else {
            return;
        };
        if !postmaster_alive(pid, &self.data_dir) {
            return;
        }
        let args: Vec<OsString> = vec![
            "-D".into(),
            self.data_dir.clone().into(),
            "-m".into(),
            "immediate".into(),
            "-w".into(),
            "-t".into(),
            "10".into(),
            "stop".into(),
        ];
        // A failure here is handled by the check below, which is the one that
        // decides whether the server is really gone.
        let _ = self.run_server_tool("pg_ctl", &args, STOP_TIMEOUT);
        if postmaster_alive(pid, &self.data_dir) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + KILL_WAIT;
            while postmaster_alive(pid, &self.data_dir) && Instant::now() < deadline {
                thread::sleep(POLL_INTERVAL);
            }
        }
    }
}

impl Drop for PostgresCluster {
    /// Stops the server with `pg_ctl stop -m immediate` (killing it if that
    /// does not work), then removes the temporary directory.
    fn drop(&mut self) {
        self.stop_server();
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.disarm(KILL_WAIT);
        }
        if let Some(temp) = self.temp.take()
            && let Err(first) = temp.close()
        {
            // A server process that was still exiting can recreate a file
            // while the tree is being removed; one more pass settles that.
            thread::sleep(Duration::from_millis(200));
            if let Err(second) = fs::remove_dir_all(&self.root)
                && second.kind() != io::ErrorKind::NotFound
            {
                eprintln!(
                    "qbench-testkit: could not remove PostgreSQL cluster directory {}: {first}; {second}",
                    self.root.display()
                );
            }
        }
    }
}

/// Everything that can go wrong while starting or using a [`PostgresCluster`].
#[derive(Debug)]
#[non_exhaustive]
pub enum PostgresClusterError {
    /// No directory with the PostgreSQL server binaries was found.
    BinariesNotFound {
        /// The places that were searched, in order.
        searched: Vec<PathBuf>,
    },
    /// The environment does not allow running a server, for instance because
    /// the tests run as root and there is no `postgres` user.
    Setup(String),
    /// A file-system or process operation failed.
    Io {
        /// What the fixture was doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A PostgreSQL tool exited unsuccessfully.
    CommandFailed {
        /// The command line that was run.
        command: String,
        /// How the command ended.
        status: String,
        /// The tail of what the command printed.
        output: String,
    },
    /// A PostgreSQL tool did not finish in time and was killed.
    CommandTimedOut {
        /// The command line that was run.
        command: String,
        /// How long it was given.
        timeout: Duration,
        /// The tail of what the command printed before it was killed.
        output: String,
    },
    /// The server did not come up.
    StartFailed {
        /// How many ports were tried.
        attempts: u32,
        /// What the last attempt reported.
        reason: String,
        /// The last lines of the server log of the last attempt.
        log_tail: String,
    },
}

impl PostgresClusterError {
    /// Builds an [`Io`](Self::Io) error with a description of what failed.
    fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}

impl fmt::Display for PostgresClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BinariesNotFound { searched } => {
                write!(f, "no PostgreSQL server binaries (initdb, pg_ctl) found; searched")?;
                for dir in searched {
                    write!(f, " {}", dir.display())?;
                }
                write!(f, "; install the PostgreSQL server or set {BIN_DIR_ENV} to its bin directory")
            }
            Self::Setup(message) => write!(f, "cannot run a PostgreSQL test cluster: {message}"),
            Self::Io { context, source } => write!(f, "{context} failed: {source}"),
            Self::CommandFailed { command, status, output } => {
                write!(f, "`{command}` failed ({status})")?;
                write_section(f, "output", output)
            }
            Self::CommandTimedOut { command, timeout, output } => {
                write!(f, "`{command}` did not finish within {}s and was killed", timeout.as_secs())?;
                write_section(f, "output", output)
            }
            Self::StartFailed { attempts, reason, log_tail } => {
                write!(f, "PostgreSQL test server failed to start (attempt {attempts} of {START_ATTEMPTS}): {reason}")?;
                write_section(f, "server log tail", log_tail)
            }
        }
    }
}

impl Error for PostgresClusterError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::BinariesNotFound { .. }
            | Self::Setup(_)
            | Self::CommandFailed { .. }
            | Self::CommandTimedOut { .. }
            | Self::StartFailed { .. } => None,
        }
    }
}

/// Appends a labelled block of captured text to an error message, if there is
/// any text.
fn write_section(f: &mut fmt::Formatter<'_>, label: &str, text: &str) -> fmt::Result {
    if text.trim().is_empty() { Ok(()) } else { write!(f, "\n--- {label} ---\n{}", text.trim_end()) }
}

/// How the server tools get run, which depends on whether we are root.
#[derive(Debug)]
enum Runner {
    /// Not root: the tools run as the current user.
    Direct,
    /// Root: the tools run as the `postgres` user, which must own the files.
    AsServerUser {
        /// The user id of `postgres`.
        uid: u32,
        /// The primary group id of `postgres`.
        gid: u32,
        /// The tool used to switch users.
        switch: SwitchUser,
    },
}

/// The program that runs a command as another user.
#[derive(Debug)]
enum SwitchUser {
    /// `runuser -u postgres -- program args…`, which takes an argument vector
    /// and so needs no quoting.
    Runuser(PathBuf),
    /// `su -s /bin/sh -c 'program args…' postgres`, for systems without
    /// `runuser`; the command line is shell-quoted.
    Su(PathBuf),
}

impl Runner {
    /// Decides how to run the tools based on the current user id.
    fn detect() -> Result<Self, PostgresClusterError> {
        if current_uid()? != 0 {
            return Ok(Self::Direct);
        }
        let (uid, gid) = lookup_server_user()?;
        let switch = if let Some(path) = find_program("runuser") {
            SwitchUser::Runuser(path)
        } else if let Some(path) = find_program("su") {
            SwitchUser::Su(path)
        } else {
            return Err(PostgresClusterError::Setup(format!(
                "running as root, but neither runuser nor su was found to switch to the \
                 {SERVER_OS_USER} user"
            )));
        };
        Ok(Self::AsServerUser { uid, gid, switch })
    }

    /// Gives `path` to the user the server runs as, so that it can write
    /// there; a no-op when not root.
    fn hand_over(&self, path: &Path) -> Result<(), PostgresClusterError> {
        match self {
            Self::Direct => Ok(()),
            Self::AsServerUser { uid, gid, .. } => chown(path, Some(*uid), Some(*gid)).map_err(|source| {
                PostgresClusterError::io(format!("handing {} over to {SERVER_OS_USER}", path.display()), source)
            }),
        }
    }

    /// Builds the command that runs `program` with `args` as the right user.
    fn command(&self, program: &Path, args: &[OsString]) -> Result<Command, PostgresClusterError> {
        match self {
            Self::Direct => {
                let mut command = Command::new(program);
                command.args(args);
                Ok(command)
            }
            Self::AsServerUser { switch: SwitchUser::Runuser(runuser), .. } => {
                let mut command = Command::new(runuser);
                command.args(["-u", SERVER_OS_USER, "--"]).arg(program).args(args);
                Ok(command)
            }
            Self::AsServerUser { switch: SwitchUser::Su(su), .. } => {
                let mut line = shell_quote(program.as_os_str());
                for arg in args {
                    line.push(b' ');
                    line.extend(shell_quote(arg));
                }
                let mut command = Command::new(su);
                command.args(["-s", "/bin/sh", "-c"]).arg(OsString::from_vec(line)).arg(SERVER_OS_USER);
                Ok(command)
            }
        }
    }
}

/// Finds the directory holding `initdb` and `pg_ctl`.
fn find_bin_dir() -> Result<PathBuf, PostgresClusterError> {
    if let Some(dir) = env::var_os(BIN_DIR_ENV).filter(|dir| !dir.is_empty()) {
        // An explicit setting that does not work is an error rather than a
        // reason to quietly use some other installation.
        let dir = PathBuf::from(dir);
        return if has_server_binaries(&dir) {
            Ok(dir)
        } else {
            Err(PostgresClusterError::BinariesNotFound { searched: vec![dir] })
        };
    }

    let mut searched = Vec::new();
    let mut versioned: Vec<(Vec<u32>, PathBuf)> = fs::read_dir(VERSIONED_INSTALL_ROOT)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = parse_version(&entry.file_name().to_string_lossy())?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    // Newest first, comparing numerically so that 10 sorts above 9.6.
    versioned.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, dir) in versioned {
        if has_server_binaries(&dir) {
            return Ok(dir);
        }
        searched.push(dir);
    }
    if searched.is_empty() {
        searched.push(Path::new(VERSIONED_INSTALL_ROOT).join("*").join("bin"));
    }

    if let Some(dir) = find_program("initdb").and_then(|initdb| initdb.parent().map(Path::to_path_buf))
        && has_server_binaries(&dir)
    {
        return Ok(dir);
    }
    searched.push(PathBuf::from("$PATH"));
    Err(PostgresClusterError::BinariesNotFound { searched })
}

/// Parses a version directory name such as `15` or `9.6`.
fn parse_version(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// Tells whether `dir` holds the tools needed to create and run a cluster.
fn has_server_binaries(dir: &Path) -> bool {
    ["initdb", "pg_ctl", "postgres"].iter().all(|tool| is_executable(&dir.join(tool)))
}

/// Tells whether `path` is an executable regular file.
fn is_executable(path: &Path) -> bool {
    fs::metadata(path).map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Looks for `name` on `PATH` and in the sbin directories, which root's
/// tools such as `runuser` live in but which are often missing from `PATH`.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH").unwrap_or_default();
    env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// Picks a client tool from the server's bin directory, so that client and
/// server versions match, falling back to whatever is on `PATH`.
fn client_program(bin_dir: &Path, tool: &str) -> PathBuf {
    let candidate = bin_dir.join(tool);
    if is_executable(&candidate) { candidate } else { PathBuf::from(tool) }
}

/// Returns the effective user id of this process.
fn current_uid() -> Result<u32, PostgresClusterError> {
    let mut command = Command::new("id");
    command.arg("-u");
    match run(command, CLIENT_TIMEOUT) {
        Ok(output) => parse_id(&output.stdout)
            .ok_or_else(|| PostgresClusterError::Setup("`id -u` printed something that is not a user id".into())),
        // `/proc/self` belongs to the process's effective user, which is a
        // good enough answer on the rare system without `id`.
        Err(err) => fs::metadata("/proc/self").map(|meta| meta.uid()).map_err(|_| err),
    }
}

/// Looks up the user and group id of the `postgres` user.
fn lookup_server_user() -> Result<(u32, u32), PostgresClusterError> {
    let id_of = |flag: &str| {
        let mut command = Command::new("id");
        command.args([flag, SERVER_OS_USER]);
        run(command, CLIENT_TIMEOUT).ok().and_then(|output| parse_id(&output.stdout))
    };
    if let (Some(uid), Some(gid)) = (id_of("-u"), id_of("-g")) {
        return Ok((uid, gid));
    }
    // `/etc/passwd` covers systems where `id` is missing or cannot resolve
    // the user for some reason.
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&SERVER_OS_USER))
        .and_then(|fields| Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?)))
        .ok_or_else(|| {
            PostgresClusterError::Setup(format!(
                "running as root, which PostgreSQL refuses, and there is no {SERVER_OS_USER} \
                 user to run the server as; create it or run the tests as another user"
            ))
        })
}

/// Parses the output of `id -u` or `id -g`.
fn parse_id(stdout: &[u8]) -> Option<u32> {
    String::from_utf8_lossy(stdout).trim().parse().ok()
}

/// Chooses the directory to create the cluster in: the usual temporary
/// directory, unless the server user could not reach it.
fn temp_base(runner: &Runner) -> Result<PathBuf, PostgresClusterError> {
    let preferred = env::temp_dir();
    if matches!(runner, Runner::Direct) || reachable_by_others(&preferred) {
        return Ok(preferred);
    }
    // Root's TMPDIR may sit under a private home directory; `/tmp` is
    // world-accessible on every sane system.
    let fallback = PathBuf::from("/tmp");
    if reachable_by_others(&fallback) {
        Ok(fallback)
    } else {
        Err(PostgresClusterError::Setup(format!(
            "the temporary directory {} cannot be entered by the {SERVER_OS_USER} user; \
             point TMPDIR at a world-accessible directory",
            preferred.display()
        )))
    }
}

/// Tells whether every directory on the way to `dir` can be entered by any
/// user, which the `postgres` user needs to reach its files.
fn reachable_by_others(dir: &Path) -> bool {
    dir.ancestors()
        .all(|ancestor| fs::metadata(ancestor).map(|meta| meta.permissions().mode() & 0o001 != 0).unwrap_or(false))
}

/// Asks the kernel for a currently free TCP port on 127.0.0.1.
///
/// The port is released again before the server binds it, so another process
/// can grab it in between; [`PostgresCluster::launch`] retries in that case.
fn free_port() -> Result<u16, PostgresClusterError> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|source| PostgresClusterError::io("finding a free port on 127.0.0.1", source))
}

/// Confirms that the server really listens on `port`, because `pg_ctl`
/// reporting success only proves that some server became ready.
fn wait_for_tcp(port: u16) -> Result<(), PostgresClusterError> {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(5))
        .map(drop)
        .map_err(|source| PostgresClusterError::io(format!("connecting to the server on port {port}"), source))
}

/// Tells whether the postmaster `pid` of the cluster in `data_dir` is still
/// running.
///
/// The command line is checked for the data directory, so that a process id
/// the system has since reused for something else never counts; zombies have
/// an empty command line and so count as gone.
fn postmaster_alive(pid: u32, data_dir: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let data_dir = data_dir.as_os_str().as_bytes();
    cmdline.split(|byte| *byte == 0).any(|arg| arg == data_dir)
}

/// Removes libpq's environment variables, so that a developer's own
/// `PGHOST`, `PGOPTIONS`, `PGSSLMODE` and the like cannot change what the
/// tools do.
fn scrub_libpq_env(command: &mut Command) {
    for (key, _) in env::vars_os() {
        if key.as_bytes().starts_with(b"PG") {
            command.env_remove(key);
        }
    }
}

/// Runs `command` to completion, killing it (and everything in its process
/// group) when it takes longer than `timeout`, and fails when it exits
/// unsuccessfully.
fn run(mut command: Command, timeout: Duration) -> Result<Output, PostgresClusterError> {
    let description = describe(&command);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group lets a timeout kill the command together with
        // anything it started, such as `pg_ctl` below `runuser`.
        .process_group(0);
    let mut child =
        command.spawn().map_err(|source| PostgresClusterError::io(format!("running `{description}`"), source))?;
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());

    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if Instant::now() >= deadline => break Err(None),
            Ok(None) => thread::sleep(POLL_INTERVAL),
            Err(source) => break Err(Some(source)),
        }
    };
    let status = match status {
        Ok(status) => status,
        Err(wait_error) => {
            kill_process_group(&mut child);
            let output = combined_tail(&receive(&stdout), &receive(&stderr));
            return Err(match wait_error {
                Some(source) => PostgresClusterError::io(format!("waiting for `{description}`"), source),
                None => PostgresClusterError::CommandTimedOut { command: description, timeout, output },
            });
        }
    };
    let stdout = receive(&stdout);
    let stderr = receive(&stderr);
    if status.success() {
        Ok(Output { status, stdout, stderr })
    } else {
        Err(PostgresClusterError::CommandFailed {
            command: description,
            status: status.to_string(),
            output: combined_tail(&stdout, &stderr),
        })
    }
}

/// Reads a child's output on a thread of its own, so that a chatty command
/// cannot block on a full pipe while we wait for it.
fn collect(pipe: Option<impl Read + Send + 'static>) -> Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    if let Some(mut pipe) = pipe {
        thread::spawn(move || {
            let mut buffer = Vec::new();
            // Whatever was read before an error is still worth reporting.
            let _ = pipe.read_to_end(&mut buffer);
            let _ = sender.send(buffer);
        });
    }
    receiver
}

/// Takes the output collected by [`collect`], giving up after a short grace
/// period in case some leftover process keeps the pipe open.
fn receive(receiver: &Receiver<Vec<u8>>) -> Vec<u8> {
    receiver.recv_timeout(OUTPUT_GRACE).unwrap_or_default()
}

/// Kills a command that overran its timeout, together with its process group.
fn kill_process_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
}

/// Renders a command line for error messages.
fn describe(command: &Command) -> String {
    std::iter::once(command.get_program())
        .chain(command.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Joins the tails of a command's stdout and stderr for an error message.
fn combined_tail(stdout: &[u8], stderr: &[u8]) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(stdout), String::from_utf8_lossy(stderr));
    tail(&text, TAIL_LINES)
}

/// Returns the last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Quotes `arg` for a POSIX shell by wrapping it in single quotes.
fn shell_quote(arg: &OsStr) -> Vec<u8> {
    let mut quoted = vec![b'\''];
    for &byte in arg.as_bytes() {
        if byte == b'\'' {
            quoted.extend_from_slice(b"'\\''");
        } else {
            quoted.push(byte);
        }
    }
    quoted.push(b'\'');
    quoted
}

/// Percent-encodes a database name for the path of a URL, keeping only the
/// characters that never need escaping.
fn percent_encode(segment: &str) -> String {
    let mut encoded = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lets tests use `?` instead of `unwrap`, which the lints forbid.
    type TestResult = Result<(), Box<dyn Error>>;

    /// Set in the environment of the helper process that
    /// `cleans_up_after_the_owning_process_is_killed` starts and kills; holds
    /// the path the helper reports its cluster's details to.
    const ORPHAN_REPORT_ENV: &str = "QBENCH_PG_FIXTURE_ORPHAN_REPORT";

    /// What a test needs to check that a cluster is gone after it was
    /// dropped.
    struct Remains {
        /// The cluster's temporary directory.
        root: PathBuf,
        /// The cluster's data directory.
        data_dir: PathBuf,
        /// The postmaster's process id.
        pid: u32,
    }

    impl Remains {
        /// Records what to check for `cluster`.
        fn of(cluster: &PostgresCluster) -> Result<Self, Box<dyn Error>> {
            Ok(Self {
                root: cluster.root.clone(),
                data_dir: cluster.data_dir.clone(),
                pid: cluster.postmaster_pid().ok_or("the cluster has no postmaster.pid")?,
            })
        }

        /// Waits up to `patience` for the server to exit and the directory to
        /// disappear, then asserts that both happened.
        fn assert_gone_within(&self, patience: Duration) {
            let deadline = Instant::now() + patience;
            while (self.root.exists() || postmaster_alive(self.pid, &self.data_dir)) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(50));
            }
            assert!(!postmaster_alive(self.pid, &self.data_dir), "server {} is still running", self.pid);
            assert!(!self.root.exists(), "{} still exists", self.root.display());
        }
    }

    /// Runs `select 1` through `psql` against `url` and returns what it
    /// printed.
    fn select_one(cluster: &PostgresCluster, url: &str) -> Result<String, Box<dyn Error>> {
        let mut command = Command::new(client_program(&cluster.bin_dir, "psql"));
        command.args(["-X", "-tAc", "select 1", url]);
        scrub_libpq_env(&mut command);
        let output = run(command, CLIENT_TIMEOUT)?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    #[test]
    fn starts_creates_a_database_answers_and_cleans_up() -> TestResult {
        let cluster = PostgresCluster::start()?;
        let remains = Remains::of(&cluster)?;
        assert!(postmaster_alive(remains.pid, &remains.data_dir));
        assert_ne!(cluster.port(), 0);
        assert_eq!(cluster.url(), format!("postgres://qbench@127.0.0.1:{}/postgres", cluster.port()));

        let url = cluster.create_database("fixture_check")?;
        assert_eq!(url, cluster.url_for("fixture_check"));
        assert_eq!(select_one(&cluster, &url)?, "1");
        assert_eq!(select_one(&cluster, &cluster.url())?, "1");
        assert!(cluster.create_database("fixture_check").is_err(), "creating the same database twice must fail");

        drop(cluster);
        // `Drop` waits for the server, so both must be gone at once.
        remains.assert_gone_within(Duration::ZERO);
        Ok(())
    }

    #[test]
    fn cleans_up_when_the_test_panics() -> TestResult {
        let (sender, receiver) = mpsc::channel();
        let outcome = thread::spawn(move || {
            let cluster = match PostgresCluster::start() {
                Ok(cluster) => cluster,
                Err(err) => {
                    let _ = sender.send(Err(err.to_string()));
                    return;
                }
            };
            let _ = sender.send(Remains::of(&cluster).map_err(|err| err.to_string()));
            panic!("deliberate panic while a cluster is running");
        })
        .join();
        let remains = receiver.recv()??;
        assert!(outcome.is_err(), "the thread should have panicked");
        remains.assert_gone_within(Duration::ZERO);
        Ok(())
    }

    /// Not a test of its own: the process that
    /// `cleans_up_after_the_owning_process_is_killed` starts, which holds a
    /// cluster until it is killed.
    #[test]
    #[ignore = "helper process for cleans_up_after_the_owning_process_is_killed"]
    fn orphan_helper() -> TestResult {
        let Some(report) = env::var_os(ORPHAN_REPORT_ENV) else {
            return Ok(());
        };
        let cluster = PostgresCluster::start()?;
        let remains = Remains::of(&cluster)?;
        let staging = PathBuf::from(&report).with_extension("partial");
        fs::write(&staging, format!("{}\n{}\n{}\n", remains.root.display(), remains.data_dir.display(), remains.pid))?;
        // The rename makes the report appear complete or not at all.
        fs::rename(&staging, &report)?;
        // Wait to be killed; the bound makes the helper end by itself should
        // the parent test die first.
        thread::sleep(Duration::from_secs(300));
        Ok(())
    }

    #[test]
    fn cleans_up_after_the_owning_process_is_killed() -> TestResult {
        let scratch = tempfile::tempdir()?;
        let report = scratch.path().join("report");
        let module = module_path!();
        let test_name = format!("{}::orphan_helper", module.split_once("::").map_or(module, |(_, rest)| rest));
        let mut helper = Command::new(env::current_exe()?)
            .args([test_name.as_str(), "--exact", "--ignored"])
            .env(ORPHAN_REPORT_ENV, &report)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;

        let deadline = Instant::now() + Duration::from_secs(180);
        while !report.exists() {
            if let Some(status) = helper.try_wait()? {
                return Err(format!("the helper exited early with {status}").into());
            }
            if Instant::now() >= deadline {
                helper.kill()?;
                helper.wait()?;
                return Err("the helper did not start a cluster in time".into());
            }
            thread::sleep(Duration::from_millis(50));
        }
        let contents = fs::read_to_string(&report)?;
        let mut lines = contents.lines();
        let remains = Remains {
            root: PathBuf::from(lines.next().ok_or("report lacks the root")?),
            data_dir: PathBuf::from(lines.next().ok_or("report lacks the data dir")?),
            pid: lines.next().ok_or("report lacks the pid")?.parse()?,
        };
        assert!(postmaster_alive(remains.pid, &remains.data_dir));

        // SIGKILL: no destructor runs, only the watchdog can clean up.
        helper.kill()?;
        helper.wait()?;
        remains.assert_gone_within(Duration::from_secs(30));
        Ok(())
    }

    #[test]
    fn a_cluster_can_be_shared_between_threads() {
        // Sharing one cluster through a `static` needs `Send + Sync`; the
        // watchdog cleans up such a cluster, whose `Drop` never runs.
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<PostgresCluster>();
        assert_send_sync::<PostgresClusterError>();
    }

    #[test]
    fn urls_escape_database_names() {
        assert_eq!(percent_encode("plain_name-1.x~"), "plain_name-1.x~");
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn versions_sort_numerically() {
        assert!(parse_version("10") > parse_version("9.6"));
        assert_eq!(parse_version("main"), None);
    }

    #[test]
    fn shell_quoting_survives_quotes() {
        assert_eq!(shell_quote(OsStr::new("it's")), b"'it'\\''s'".to_vec());
    }
}
