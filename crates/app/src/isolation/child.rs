//! The child's side: `qbench execute-run --run-id … --worker-id …`.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use qbench_domain::RunId;
use qbench_service::execution::{ExecutionError, Phase, ProgressSink, execute};
use tokio_util::sync::CancellationToken;

use crate::isolation::protocol::{CANCEL, ChildMessage};
use crate::server::open_execution;
use crate::settings::Settings;

/// How often progress is reported to the parent.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Executes run `run_id` claimed by `worker_id` and reports over standard output; returns once the
/// final message is written. Cancel arrives as a line on standard input, or as its end (the parent
/// is gone).
pub async fn execute_run(settings: &Settings, run_id: RunId, worker_id: &str) {
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let message = run(settings, run_id, worker_id, &out).await;
    write(&out, &message);
}

/// Executes the run and returns the final message.
async fn run(settings: &Settings, run_id: RunId, worker_id: &str, out: &Arc<Mutex<std::io::Stdout>>) -> ChildMessage {
    let failed = |cause: String| ChildMessage::Failed { phase: Phase::Prepare.as_str().to_owned(), cause };
    let (dependencies, runs) = match open_execution(settings).await {
        Ok(opened) => opened,
        Err(error) => return failed(error.to_string()),
    };
    let run = match runs.get(run_id).await {
        Ok(run) => run,
        Err(error) => return failed(error.to_string()),
    };
    if run.claimed_by() != Some(worker_id) {
        return failed(format!("run {run_id} is not claimed by worker {worker_id}"));
    }
    let cancel = CancellationToken::new();
    watch_stdin(cancel.clone());
    let progress = ProgressSink::default();
    let stop = CancellationToken::new();
    let reporter = tokio::spawn(report_progress(progress.clone(), out.clone(), stop.clone()));
    let outcome = execute(&dependencies, &run, worker_id, &progress, &cancel).await;
    stop.cancel();
    drop(reporter.await);
    match outcome {
        Ok(outcome) => ChildMessage::Completed { metrics: outcome.metrics },
        Err(ExecutionError::Cancelled) => ChildMessage::Cancelled,
        Err(ExecutionError::Failed { phase, cause }) => {
            ChildMessage::Failed { phase: phase.as_str().to_owned(), cause }
        }
    }
}

/// Cancels on a `cancel` line or at the end of standard input. A plain thread, not a runtime task:
/// a blocking read must not hold the runtime's shutdown.
fn watch_stdin(cancel: CancellationToken) {
    std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            match std::io::stdin().read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) if line.trim() == CANCEL => break,
                Ok(_) => {}
            }
        }
        cancel.cancel();
    });
}

/// Writes the progress whenever it changed, until `stop`, and the progress at `stop` last, so the
/// parent records the phase a run ended in.
async fn report_progress(progress: ProgressSink, out: Arc<Mutex<std::io::Stdout>>, stop: CancellationToken) {
    let mut last = None;
    loop {
        let stopping = stop.is_cancelled();
        let now = progress.snapshot();
        if last.as_ref() != Some(&now) {
            write(
                &out,
                &ChildMessage::Progress { phase: now.phase.clone(), done: now.done, total: now.total, rate: now.rate },
            );
            last = Some(now);
        }
        if stopping {
            return;
        }
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(PROGRESS_INTERVAL) => {}
        }
    }
}

fn write(out: &Mutex<std::io::Stdout>, message: &ChildMessage) {
    let mut out = out.lock().unwrap_or_else(PoisonError::into_inner);
    match serde_json::to_string(message) {
        Ok(line) => {
            // The parent reads until the end of the stream; a broken pipe means it is gone.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        Err(error) => tracing::error!(%error, "a message to the parent could not be encoded"),
    }
}
