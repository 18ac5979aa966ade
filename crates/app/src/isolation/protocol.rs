//! What a run's child process tells its parent: one JSON object per line on its standard output.

use serde::{Deserialize, Serialize};

/// One line of a run's child process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChildMessage {
    /// The phase and the units done so far.
    Progress {
        /// The phase's wire name.
        phase: String,
        /// Units done in the phase.
        done: u64,
        /// Units in the phase, when known.
        total: Option<u64>,
        /// Units per second in the phase so far.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rate: Option<f64>,
    },
    /// The run completed with these metrics.
    Completed {
        /// The run's `metrics`.
        metrics: serde_json::Value,
    },
    /// The run failed in `phase`.
    Failed {
        /// The phase's wire name.
        phase: String,
        /// Why.
        cause: String,
    },
    /// The run stopped because it was cancelled.
    Cancelled,
}

/// The line a parent writes on the child's standard input to cancel the run.
pub(crate) const CANCEL: &str = "cancel";
