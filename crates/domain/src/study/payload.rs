//! What a `study` job carries.

use crate::study::StudySpec;

/// The payload of a `study` job: the study as submitted.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyPayload {
    /// The study.
    pub spec: StudySpec,
}
