//! Named dense vectors: the unit a dataset stores and an experiment indexes.

use std::fmt;
use std::str::FromStr;

use crate::{Distance, DomainError, Limits};

/// The number of components of a dense vector, within [`Limits::DIMENSION`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Dimension(u32);

impl Dimension {
    /// A dimension, refused outside `1..=65536`.
    pub fn new(dim: u32) -> Result<Self, DomainError> {
        if Limits::DIMENSION.contains(&dim) {
            Ok(Self(dim))
        } else {
            Err(DomainError::invalid(
                "dim",
                format!("dimension {dim} is outside {}..={}", Limits::DIMENSION.start(), Limits::DIMENSION.end()),
            ))
        }
    }

    /// The dimension as a number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Dimension {
    type Error = DomainError;

    fn try_from(dim: u32) -> Result<Self, Self::Error> {
        Self::new(dim)
    }
}

impl From<Dimension> for u32 {
    fn from(dim: Dimension) -> Self {
        dim.0
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The name of a vector inside a point, as Qdrant's named vectors use it.
///
/// Names are 1 to 255 characters without whitespace or control characters. The one exception is
/// [`VectorName::unnamed`], Qdrant's default (empty-named) vector, which a dataset declares with
/// the single-vector shorthand `vector: {dim, distance}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct VectorName(String);

impl VectorName {
    /// Qdrant's default, unnamed vector.
    pub fn unnamed() -> Self {
        Self(String::new())
    }

    /// Whether this is Qdrant's default, unnamed vector.
    pub fn is_unnamed(&self) -> bool {
        self.0.is_empty()
    }

    /// The name as a string (empty for the unnamed vector).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for VectorName {
    type Err = DomainError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.is_empty() {
            return Err(DomainError::invalid("vector name", "must not be empty"));
        }
        if name.chars().count() > Limits::NAME_LENGTH {
            return Err(DomainError::invalid(
                "vector name",
                format!("`{name}` is longer than {} characters", Limits::NAME_LENGTH),
            ));
        }
        if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::invalid(
                "vector name",
                format!("`{}` contains whitespace or control characters", name.escape_debug()),
            ));
        }
        if let Some(problem) = crate::validation::name_problem(name) {
            return Err(DomainError::invalid("vector name", format!("`{}` {problem}", name.escape_debug())));
        }
        Ok(Self(name.to_owned()))
    }
}

impl fmt::Display for VectorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a named vector is: its dimension, its distance, and the Parquet column holding it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VectorSpec {
    /// Number of components.
    pub dim: Dimension,
    /// Similarity function.
    pub distance: Distance,
    /// The Parquet column that holds the vector; `None` means the column is named like the vector
    /// (`vector` for the unnamed vector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl VectorSpec {
    /// The column of the unnamed vector when none is given.
    pub const UNNAMED_COLUMN: &'static str = "vector";

    /// The Parquet column holding the vector called `name`.
    pub fn column_for(&self, name: &VectorName) -> String {
        match &self.column {
            Some(column) => column.clone(),
            None if name.is_unnamed() => Self::UNNAMED_COLUMN.to_owned(),
            None => name.to_string(),
        }
    }

    /// A vector stored in the column of its own name.
    pub fn new(dim: Dimension, distance: Distance) -> Self {
        Self { dim, distance, column: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_bounds_follow_qdrant() {
        assert!(Dimension::new(0).is_err());
        assert_eq!(Dimension::new(1).map(Dimension::get), Ok(1));
        assert_eq!(Dimension::new(65_536).map(Dimension::get), Ok(65_536));
        assert!(Dimension::new(65_537).is_err());
    }

    #[test]
    fn vector_names_refuse_empty_and_whitespace() {
        assert!("".parse::<VectorName>().is_err());
        assert!("text embedding".parse::<VectorName>().is_err());
        assert!("x".repeat(256).parse::<VectorName>().is_err());
        assert_eq!("text_embedding".parse::<VectorName>().map(|n| n.to_string()), Ok("text_embedding".to_owned()));
    }
}
