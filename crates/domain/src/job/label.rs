//! Worker labels: a pool of workers a job may require (e.g. `highmem`).

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// A worker label: 1 to 63 characters of lowercase ASCII letters, digits and `-`, starting with a
/// letter (a Kubernetes-style label value, so a pool's pods can carry it as is).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WorkerLabel(String);

impl WorkerLabel {
    /// The longest label.
    pub const MAX_LEN: usize = 63;

    /// The label text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for WorkerLabel {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = (1..=Self::MAX_LEN).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(DomainError::invalid(
                "label",
                format!(
                    "`{}` is not a worker label: 1 to {} lowercase letters, digits or `-`, starting with a letter",
                    s.escape_debug(),
                    Self::MAX_LEN
                ),
            ))
        }
    }
}

impl TryFrom<String> for WorkerLabel {
    type Error = DomainError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<WorkerLabel> for String {
    fn from(label: WorkerLabel) -> Self {
        label.0
    }
}

impl fmt::Display for WorkerLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_short_lowercase_names() {
        assert!("highmem".parse::<WorkerLabel>().is_ok());
        assert!("gpu-a100".parse::<WorkerLabel>().is_ok());
        for bad in ["", "HighMem", "1pool", "a b", "a\u{202e}b", &"a".repeat(64)] {
            assert!(bad.parse::<WorkerLabel>().is_err(), "{bad:?}");
        }
    }
}
