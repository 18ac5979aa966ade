//! How large a study may be, so that one request cannot occupy a Qdrant for days.

/// The largest study a deployment accepts; configurable, with [`Default`] values that fit a
/// study into an afternoon on one machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StudyLimits {
    /// Collections the grid of a space may build.
    pub max_builds: u64,
    /// Measurements (build × search setting × client count) the grid of a space may make.
    pub max_measurements: u64,
    /// Runs of each measurement.
    pub max_repetitions: u32,
}

impl Default for StudyLimits {
    fn default() -> Self {
        Self { max_builds: 64, max_measurements: 2_048, max_repetitions: 10 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_are_64_builds_2048_measurements_and_10_repetitions() {
        assert_eq!(
            StudyLimits::default(),
            StudyLimits { max_builds: 64, max_measurements: 2_048, max_repetitions: 10 }
        );
    }
}
