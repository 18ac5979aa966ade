//! The parent's side: start a run's child process, relay its progress, forward cancel, and turn
//! however it ended into the run's outcome.

use std::collections::{HashMap, VecDeque};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qbench_domain::{Progress, Run, RunId};
use qbench_service::execution::{ExecutionError, Phase, PhaseEntry, ProgressSink, RunExecutor, RunOutcome, log_lines};
use qbench_storage::ResultWriter;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::isolation::protocol::{CANCEL, ChildMessage};
use crate::settings::Settings;

/// Lines of the child's error output kept for a failure message.
const TAIL_LINES: usize = 12;
/// Characters kept of each of those lines.
const TAIL_LINE_CHARS: usize = 400;

/// Executes each run in a child process of this binary (`qbench execute-run`).
#[derive(Clone)]
pub struct ChildProcessExecutor {
    program: PathBuf,
    config: Option<PathBuf>,
    env: HashMap<String, String>,
    grace: Duration,
    /// Where a run whose process died gets its log (the process could not write it).
    results: Option<Arc<dyn ResultWriter>>,
}

impl std::fmt::Debug for ChildProcessExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildProcessExecutor")
            .field("program", &self.program)
            .field("config", &self.config)
            .field("grace", &self.grace)
            .field("stores_dead_runs_logs", &self.results.is_some())
            .finish_non_exhaustive()
    }
}

impl ChildProcessExecutor {
    /// Runs `program execute-run …` with `--config config` and `env` on top of this process's
    /// environment; a cancelled child is killed `grace` after it was asked to stop.
    pub fn new(program: PathBuf, config: Option<PathBuf>, env: HashMap<String, String>, grace: Duration) -> Self {
        Self { program, config, env, grace, results: None }
    }

    /// Stores the log of a run whose process died (killed, crashed) in `results`: the phases its
    /// process reported, then the failure; a process that ends by itself writes its own.
    pub fn with_results(mut self, results: Arc<dyn ResultWriter>) -> Self {
        self.results = Some(results);
        self
    }

    /// The executor the settings call for: `worker.executable` or this binary, with the file and
    /// environment the settings were loaded from, so the child loads the very same settings.
    pub fn from_settings(settings: &Settings) -> std::io::Result<Self> {
        let program = if settings.worker.executable.is_empty() {
            std::env::current_exe()?
        } else {
            PathBuf::from(&settings.worker.executable)
        };
        Ok(Self::new(
            program,
            settings.origin.file.clone(),
            settings.origin.env.clone(),
            Duration::from_millis(settings.worker.cancel_grace_ms),
        ))
    }

    fn command(&self, run_id: RunId, worker: &str) -> Command {
        let mut command = Command::new(&self.program);
        command.envs(&self.env);
        if let Some(config) = &self.config {
            command.arg("--config").arg(config);
        }
        command
            .args(["execute-run", "--run-id", &run_id.to_string(), "--worker-id", worker])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// Waits for the child to exit; once `cancel` fires, asks it to stop and kills it after the
    /// grace period.
    async fn supervise(
        &self,
        child: &mut Child,
        mut stdin: Option<ChildStdin>,
        cancel: &CancellationToken,
    ) -> std::io::Result<ExitStatus> {
        let mut kill_at: Option<Instant> = None;
        let mut killed = false;
        loop {
            let deadline = kill_at.unwrap_or_else(Instant::now);
            tokio::select! {
                status = child.wait() => return status,
                () = cancel.cancelled(), if kill_at.is_none() => {
                    if let Some(input) = stdin.as_mut() {
                        // A child that already stopped reading is killed at the deadline anyway.
                        let _ = input.write_all(format!("{CANCEL}\n").as_bytes()).await;
                        let _ = input.flush().await;
                    }
                    kill_at = Some(Instant::now() + self.grace);
                }
                () = tokio::time::sleep_until(deadline), if kill_at.is_some() && !killed => {
                    tracing::info!(pid = child.id(), "the cancelled run's process did not stop in time; killing it");
                    child.start_kill()?;
                    killed = true;
                    stdin = None;
                }
            }
        }
    }
}

#[async_trait]
impl RunExecutor for ChildProcessExecutor {
    async fn execute(
        &self,
        run: &Run,
        worker: &str,
        progress: &ProgressSink,
        cancel: &CancellationToken,
    ) -> Result<RunOutcome, ExecutionError> {
        let mut child = self.command(run.id(), worker).spawn().map_err(|error| {
            ExecutionError::failed(
                Phase::Prepare,
                format!("the run's process ({}) could not start: {error}", self.program.display()),
            )
        })?;
        tracing::info!(run_id = %run.id(), pid = child.id(), "run process started");
        let stdin = child.stdin.take();
        let messages = child.stdout.take().map(|stdout| tokio::spawn(read_messages(stdout, progress.clone())));
        let tail = child.stderr.take().map(|stderr| tokio::spawn(read_tail(stderr)));
        let status = self.supervise(&mut child, stdin, cancel).await;
        let (last, phases) = match messages {
            Some(task) => task.await.unwrap_or_default(),
            None => (None, Vec::new()),
        };
        let tail = match tail {
            Some(task) => task.await.unwrap_or_default(),
            None => VecDeque::new(),
        };
        let phase = Phase::parse(&progress.snapshot().phase).unwrap_or(Phase::Prepare);
        match last {
            Some(ChildMessage::Completed { metrics }) => Ok(RunOutcome { metrics }),
            Some(ChildMessage::Failed { phase: failed, cause }) => {
                Err(ExecutionError::Failed { phase: Phase::parse(&failed).unwrap_or(phase), cause })
            }
            Some(ChildMessage::Cancelled) => Err(ExecutionError::Cancelled),
            Some(ChildMessage::Progress { .. }) | None if cancel.is_cancelled() => Err(ExecutionError::Cancelled),
            Some(ChildMessage::Progress { .. }) | None => {
                let cause = format!("the run's process {}{}", describe(&status), tail_note(&tail));
                tracing::warn!(run_id = %run.id(), %cause, "run process died");
                let failed = Err(ExecutionError::failed(phase, cause));
                if let Some(results) = &self.results {
                    let run_id = run.id().to_string();
                    let lines = log_lines(&run_id, &phases, &failed);
                    if let Err(error) = results.write_log(&run_id, &lines).await {
                        tracing::warn!(run_id = %run_id, %error, "the dead run's log was not stored");
                    }
                }
                failed
            }
        }
    }

    fn may_leave_collections(&self) -> bool {
        true
    }
}

/// Relays progress lines; returns the last message that was not progress, if any, and each phase
/// the process entered (for the log of a process that dies).
async fn read_messages(
    stdout: impl AsyncRead + Unpin,
    progress: ProgressSink,
) -> (Option<ChildMessage>, Vec<PhaseEntry>) {
    let mut lines = BufReader::new(stdout).lines();
    let mut last = None;
    let mut phases: Vec<PhaseEntry> = Vec::new();
    while let Ok(Some(line)) = lines.next_line().await {
        match serde_json::from_str::<ChildMessage>(&line) {
            Ok(ChildMessage::Progress { phase, done, total, rate }) => {
                if phases.last().is_none_or(|entry| entry.phase != phase) {
                    phases.push(PhaseEntry { at: chrono::Utc::now(), phase: phase.clone(), total });
                }
                progress.set(Progress { phase, done, total, rate })
            }
            Ok(message) => last = Some(message),
            Err(error) => tracing::warn!(%error, line = %truncate(&line), "unreadable line from a run's process"),
        }
    }
    (last, phases)
}

/// Forwards the child's log lines to this process's log output and keeps the last few.
async fn read_tail(stderr: impl AsyncRead + Unpin) -> VecDeque<String> {
    use std::io::Write;
    let mut lines = BufReader::new(stderr).lines();
    let mut tail = VecDeque::with_capacity(TAIL_LINES);
    while let Ok(Some(line)) = lines.next_line().await {
        // The child logs JSON lines in this process's format; they join its log as they are.
        let _ = writeln!(std::io::stdout().lock(), "{line}");
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(truncate(&line));
    }
    tail
}

fn truncate(line: &str) -> String {
    if line.chars().count() <= TAIL_LINE_CHARS {
        return line.to_owned();
    }
    let kept: String = line.chars().take(TAIL_LINE_CHARS).collect();
    format!("{kept}…")
}

/// How a child without a result ended, for the run's error.
fn describe(status: &std::io::Result<ExitStatus>) -> String {
    match status {
        Ok(status) => match (status.code(), status.signal()) {
            (_, Some(signal)) => format!("was killed by signal {signal} ({})", signal_name(signal)),
            (Some(code), None) => format!("exited with status {code} without a result"),
            (None, None) => "ended without a result".to_owned(),
        },
        Err(error) => format!("could not be waited for: {error}"),
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        6 => "SIGABRT: the engine aborted, e.g. on a failed memory allocation",
        9 => "SIGKILL: killed from outside, e.g. by the out-of-memory killer",
        11 => "SIGSEGV: invalid memory access",
        15 => "SIGTERM",
        7 => "SIGBUS",
        _ => "signal",
    }
}

fn tail_note(tail: &VecDeque<String>) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
    format!("; its last output: {}", lines.join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_and_exit_codes_read_as_causes() {
        assert_eq!(
            describe(&Ok(ExitStatus::from_raw(6))),
            "was killed by signal 6 (SIGABRT: the engine aborted, e.g. on a failed memory allocation)"
        );
        assert!(describe(&Ok(ExitStatus::from_raw(9))).contains("out-of-memory killer"));
        assert_eq!(describe(&Ok(ExitStatus::from_raw(3 << 8))), "exited with status 3 without a result");
    }

    #[test]
    fn the_tail_keeps_long_lines_short() {
        let long = "x".repeat(TAIL_LINE_CHARS + 10);
        assert_eq!(truncate(&long).chars().count(), TAIL_LINE_CHARS + 1);
        let tail: VecDeque<String> = ["a".to_owned(), "b".to_owned()].into();
        assert_eq!(tail_note(&tail), "; its last output: a | b");
    }
}
