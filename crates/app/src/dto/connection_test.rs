//! Wire type of `POST /api/v1/connections/{id}/test`: each step of the test and how it went.

use apistos::ApiComponent;
use qbench_domain::Connection;
use qbench_vector_store::{ConnectionCheck, StepOutcome};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// It succeeded.
    Passed,
    /// It failed (`detail` says why).
    Failed,
    /// It did not happen: an earlier step failed, or it does not apply (TLS over `http://`).
    Skipped,
}

/// One step of the test.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepBody {
    /// `reachable`, `tls`, `authentication` or `qdrant`.
    pub step: String,
    /// How it went.
    pub status: StepStatus,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The result of testing a connection.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct ConnectionTestResponse {
    /// The connection tested.
    pub connection_id: Uuid,
    /// Whether every step passed.
    pub ok: bool,
    /// The first step that failed, and why (`authentication: the API key was refused (…)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// `qdrant` (a server) or `qdrant-edge` (the embedded engine), when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// Its version, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The round trip of the request that identified it, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// Every step, in order.
    pub steps: Vec<StepBody>,
}

impl ConnectionTestResponse {
    /// The test `check` of `connection`.
    pub fn new(connection: &Connection, check: &ConnectionCheck) -> Self {
        let steps = check
            .steps
            .iter()
            .map(|(step, outcome)| {
                let (status, detail) = match outcome {
                    StepOutcome::Passed => (StepStatus::Passed, None),
                    StepOutcome::Failed(why) => (StepStatus::Failed, Some(why.clone())),
                    StepOutcome::Skipped => (StepStatus::Skipped, None),
                };
                StepBody { step: step.as_str().to_owned(), status, detail }
            })
            .collect();
        Self {
            connection_id: connection.id.as_uuid(),
            ok: check.is_ok(),
            failure: check.failure().map(|(step, why)| format!("{}: {why}", step.as_str())),
            engine: check.engine.as_ref().map(|engine| engine.engine.clone()),
            version: check.engine.as_ref().map(|engine| engine.version.clone()),
            latency_ms: check.round_trip.map(|rtt| rtt.as_secs_f64() * 1000.0),
            steps,
        }
    }
}
