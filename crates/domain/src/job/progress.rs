//! How far a job has come.

/// How far a job has come: the phase, the units done of it and the rate they are done at.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Progress {
    /// Phase name (`queued`, `prepare`, `upload`, `index`, `search`, …).
    pub phase: String,
    /// Units done in this phase.
    pub done: u64,
    /// Units in this phase, when known.
    pub total: Option<u64>,
    /// Units per second in this phase so far, once measurable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

impl Progress {
    /// The progress of a job that waits for a worker.
    pub fn queued() -> Self {
        Self::at("queued", 0, None)
    }

    /// `done` of `total` units in `phase`, rate not measured.
    pub fn at(phase: impl Into<String>, done: u64, total: Option<u64>) -> Self {
        Self { phase: phase.into(), done, total, rate: None }
    }
}
