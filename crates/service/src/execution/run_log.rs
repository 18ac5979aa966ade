//! A run's own log, stored as its `log.jsonl` artifact: the phases it went through with their
//! times, what its report warns about, and how it ended — whatever else runs on the server.

use chrono::Utc;
use qbench_domain::report::RunReport;
use serde_json::{Value, json};

use crate::execution::progress::PhaseEntry;
use crate::execution::{ExecutionError, RunOutcome};

/// The log lines of an execution that went through `phases` and ended with `outcome` (written by
/// [`crate::execution::execute`], and by a supervisor whose run's process died before it could).
pub fn lines(run_id: &str, phases: &[PhaseEntry], outcome: &Result<RunOutcome, ExecutionError>) -> Vec<String> {
    let mut events: Vec<Value> = phases
        .iter()
        .map(|entry| {
            json!({"at": entry.at.to_rfc3339(), "run_id": run_id, "level": "INFO", "event": "phase",
                   "phase": entry.phase, "total": entry.total})
        })
        .collect();
    let at = Utc::now().to_rfc3339();
    match outcome {
        Ok(outcome) => {
            let report = serde_json::from_value::<RunReport>(outcome.metrics.clone()).ok();
            for warning in report.iter().flat_map(|report| &report.warnings) {
                events
                    .push(json!({"at": at, "run_id": run_id, "level": "WARN", "event": "warning", "message": warning}));
            }
            let summary = report.map(|report| {
                json!({"recall": report.recall, "qps": report.qps, "p_99_latency": report.p_99_latency,
                       "points": report.points, "total_seconds": report.total_seconds})
            });
            events.push(json!({"at": at, "run_id": run_id, "level": "INFO", "event": "completed", "summary": summary}));
        }
        Err(ExecutionError::Cancelled) => {
            events.push(json!({"at": at, "run_id": run_id, "level": "WARN", "event": "cancelled"}));
        }
        Err(ExecutionError::Failed { phase, cause }) => {
            events.push(json!({"at": at, "run_id": run_id, "level": "ERROR", "event": "failed",
                               "phase": phase.as_str(), "error": cause}));
        }
    }
    events.iter().map(Value::to_string).collect()
}
