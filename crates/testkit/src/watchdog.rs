//! The guard process that cleans up after a test server when the test process dies without
//! running `Drop` (SIGKILL, `process::exit`, a fixture kept in a `static`).
//!
//! Each fixture brings its own shell script (how to find and stop its server differs); this module
//! runs it the same way for all: the script blocks reading its stdin, a pipe whose only writer is
//! the test process, so it wakes when that process exits or is killed. A normal drop writes
//! [`OWNER_CLEANS_UP`] first, so the script only double-checks that the server is gone and leaves
//! the directory to its owner.

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The line that tells the watchdog the owner removes the directory itself.
const OWNER_CLEANS_UP: &[u8] = b"owner-cleans-up\n";

/// How often `disarm` checks whether the watchdog has finished.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// A running watchdog script.
#[derive(Debug)]
pub(crate) struct Watchdog {
    /// The watchdog process.
    child: Child,
    /// The write end of its stdin; closing it, or this process dying, wakes it up.
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    /// Starts `script` under `/bin/sh` as `name` with `args` (`$1`, `$2`, …), in a process group of
    /// its own so that Ctrl-C in a terminal does not reach it together with the test process.
    pub(crate) fn spawn<I, S>(script: &str, name: &str, args: I) -> io::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .arg(name)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let stdin = child.stdin.take();
        Ok(Self { child, stdin })
    }

    /// Tells the watchdog the owner cleans up, then waits up to `wait` for its final check (and
    /// kills it past that, which only happens if something is badly wrong).
    pub(crate) fn disarm(mut self, wait: Duration) {
        if let Some(mut stdin) = self.stdin.take() {
            // A failed write means the watchdog is gone or reads end-of-file: either is fine.
            let _ = stdin.write_all(OWNER_CLEANS_UP);
        }
        let deadline = Instant::now() + wait;
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
                Ok(None) => thread::sleep(POLL_INTERVAL),
            }
        }
    }
}
