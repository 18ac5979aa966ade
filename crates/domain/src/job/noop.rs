//! What a `noop` job carries.

/// What a `noop` job does: `steps` steps of `step_ms` milliseconds each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NoopPayload {
    /// Steps to take.
    #[serde(default)]
    pub steps: u64,
    /// Milliseconds each step waits.
    #[serde(default)]
    pub step_ms: u64,
}

impl NoopPayload {
    /// The most steps a `noop` job may take.
    pub const MAX_STEPS: u64 = 1_000_000;
    /// The longest step.
    pub const MAX_STEP_MS: u64 = 60_000;
}
