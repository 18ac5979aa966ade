//! A connection tested step by step — reached, TLS set up, authenticated, answered as Qdrant — so
//! that a failure names the step and why, not only "it did not work".

use std::time::Duration;

use crate::{EngineInfo, VectorStoreError};

/// A step of a connection test, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStep {
    /// A connection to the host and port.
    Reach,
    /// The TLS handshake (`https://` URLs only).
    Tls,
    /// The API key accepted.
    Authenticate,
    /// The server answers as Qdrant, with its version.
    Identify,
}

impl CheckStep {
    /// Every step, in order.
    pub const ALL: [Self; 4] = [Self::Reach, Self::Tls, Self::Authenticate, Self::Identify];

    /// Its wire name: `reachable`, `tls`, `authentication`, `qdrant`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reach => "reachable",
            Self::Tls => "tls",
            Self::Authenticate => "authentication",
            Self::Identify => "qdrant",
        }
    }
}

/// How a step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// It succeeded.
    Passed,
    /// It failed, with why.
    Failed(String),
    /// It did not happen: an earlier step failed, or it does not apply (TLS on `http://`).
    Skipped,
}

/// The result of testing a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionCheck {
    /// Each step and how it went, in order.
    pub steps: Vec<(CheckStep, StepOutcome)>,
    /// The engine that answered, when one did.
    pub engine: Option<EngineInfo>,
    /// The round trip of the request that identified it.
    pub round_trip: Option<Duration>,
}

impl ConnectionCheck {
    /// Every step passed (TLS skipped when `tls` is false): `engine` answered in `round_trip`.
    pub fn passed(engine: EngineInfo, round_trip: Duration, tls: bool) -> Self {
        let steps = CheckStep::ALL
            .into_iter()
            .map(|step| (step, if step == CheckStep::Tls && !tls { StepOutcome::Skipped } else { StepOutcome::Passed }))
            .collect();
        Self { steps, engine: Some(engine), round_trip: Some(round_trip) }
    }

    /// `failed` failed with `why`: the steps before it passed, those after it did not happen.
    pub fn failed_at(failed: CheckStep, why: impl Into<String>, tls: bool) -> Self {
        let why = why.into();
        let mut before = true;
        let steps = CheckStep::ALL
            .into_iter()
            .map(|step| {
                let outcome = if step == failed {
                    before = false;
                    StepOutcome::Failed(why.clone())
                } else if before && (tls || step != CheckStep::Tls) {
                    StepOutcome::Passed
                } else {
                    StepOutcome::Skipped
                };
                (step, outcome)
            })
            .collect();
        Self { steps, engine: None, round_trip: None }
    }

    /// A port error sorted into the step it most likely belongs to, when the adapter knows no
    /// better: unreachable → `reachable`, refused → `authentication`, anything else → `qdrant`.
    pub fn from_error(error: &VectorStoreError, tls: bool) -> Self {
        match error {
            VectorStoreError::Unreachable(why) => Self::failed_at(CheckStep::Reach, why.clone(), tls),
            VectorStoreError::Rejected(why) => Self::failed_at(CheckStep::Authenticate, why.clone(), tls),
            VectorStoreError::CollectionNotFound(_) | VectorStoreError::Internal(_) => {
                Self::failed_at(CheckStep::Identify, error.to_string(), tls)
            }
        }
    }

    /// Whether every step that happened passed.
    pub fn is_ok(&self) -> bool {
        self.engine.is_some() && self.failure().is_none()
    }

    /// The step that failed and why, if one did.
    pub fn failure(&self) -> Option<(CheckStep, &str)> {
        self.steps.iter().find_map(|(step, outcome)| match outcome {
            StepOutcome::Failed(why) => Some((*step, why.as_str())),
            StepOutcome::Passed | StepOutcome::Skipped => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_step_passes_those_before_and_skips_those_after() {
        let check = ConnectionCheck::failed_at(CheckStep::Authenticate, "Invalid api-key", true);
        let outcomes: Vec<&StepOutcome> = check.steps.iter().map(|(_, outcome)| outcome).collect();
        assert_eq!(
            outcomes,
            [
                &StepOutcome::Passed,
                &StepOutcome::Passed,
                &StepOutcome::Failed("Invalid api-key".into()),
                &StepOutcome::Skipped
            ]
        );
        assert_eq!(check.failure(), Some((CheckStep::Authenticate, "Invalid api-key")));
        assert!(!check.is_ok());
        // Over plain HTTP there is no TLS step to pass.
        let plain = ConnectionCheck::failed_at(CheckStep::Identify, "not Qdrant", false);
        assert_eq!(plain.steps[1], (CheckStep::Tls, StepOutcome::Skipped));
        let engine = EngineInfo { engine: "qdrant".into(), version: "1.16.0".into() };
        assert!(ConnectionCheck::passed(engine, Duration::from_millis(3), false).is_ok());
    }
}
