//! The similarity functions Qdrant supports, under Qdrant's own names.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// A vector distance, named as Qdrant names it.
///
/// Parsing is case-insensitive and accepts `Euclidean` as an alias of `Euclid`; display is
/// always the canonical name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Distance {
    /// Cosine similarity (vectors are normalised on upload).
    Cosine,
    /// Euclidean (L2) distance.
    Euclid,
    /// Dot product.
    Dot,
    /// Manhattan (L1) distance.
    Manhattan,
}

impl Distance {
    /// Every distance, in Qdrant's documentation order.
    pub const ALL: [Distance; 4] = [Self::Cosine, Self::Euclid, Self::Dot, Self::Manhattan];

    /// The canonical name (`Cosine`, `Euclid`, `Dot`, `Manhattan`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cosine => "Cosine",
            Self::Euclid => "Euclid",
            Self::Dot => "Dot",
            Self::Manhattan => "Manhattan",
        }
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Distance {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cosine" => Ok(Self::Cosine),
            "euclid" | "euclidean" => Ok(Self::Euclid),
            "dot" => Ok(Self::Dot),
            "manhattan" => Ok(Self::Manhattan),
            _ => Err(DomainError::invalid(
                "distance",
                format!("unknown distance `{s}`; expected one of Cosine, Euclid, Dot, Manhattan"),
            )),
        }
    }
}

impl TryFrom<String> for Distance {
    type Error = DomainError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Distance> for &'static str {
    fn from(distance: Distance) -> Self {
        distance.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_with_the_euclidean_alias() {
        for (input, expected) in [
            ("Cosine", Distance::Cosine),
            ("COSINE", Distance::Cosine),
            ("euclid", Distance::Euclid),
            ("Euclidean", Distance::Euclid),
            ("dot", Distance::Dot),
            ("MANHATTAN", Distance::Manhattan),
        ] {
            assert_eq!(input.parse::<Distance>().ok(), Some(expected), "{input}");
        }
    }

    #[test]
    fn rejects_unknown_names_and_displays_canonically() {
        let err = "hamming".parse::<Distance>().unwrap_err();
        assert!(err.to_string().contains("hamming"));
        assert_eq!(Distance::Euclid.to_string(), "Euclid");
    }
}
