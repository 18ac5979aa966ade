//! Vectors on the wire: the full form `{dim, distance, column}` and the shorthand `1536`.

use std::collections::BTreeMap;

use apistos::ApiComponent;
use qbench_domain::{Dimension, Distance, VectorName, VectorSpec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dto::{Violations, bounds};

/// A named vector in full: dimension, distance (default `Cosine`) and Parquet column.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
pub struct VectorParams {
    /// Number of components, 1 to 65536.
    #[schemars(range(min = "bounds::DIMENSION_MIN", max = "bounds::DIMENSION_MAX"))]
    pub dim: u32,
    /// `Cosine` (default), `Euclid` (alias `Euclidean`), `Dot` or `Manhattan`; case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distance: Option<String>,
    /// Parquet column holding the vector; defaults to the vector's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub column: Option<String>,
}

/// A vector given either in full or as its dimension alone (distance `Cosine`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VectorInput {
    /// Shorthand: the dimension; the distance is `Cosine`.
    Dim(#[schemars(range(min = "bounds::DIMENSION_MIN", max = "bounds::DIMENSION_MAX"))] u32),
    /// Full form.
    Params(VectorParams),
}

impl VectorInput {
    fn params(&self) -> VectorParams {
        match self {
            Self::Dim(dim) => VectorParams { dim: *dim, distance: None, column: None },
            Self::Params(params) => params.clone(),
        }
    }
}

impl VectorParams {
    /// The canonical wire form of a domain vector.
    pub fn from_domain(spec: &VectorSpec) -> Self {
        Self { dim: spec.dim.get(), distance: Some(spec.distance.to_string()), column: spec.column.clone() }
    }

    /// The domain vector, recording violations under `field`.
    pub fn to_domain(&self, field: &str, violations: &mut Violations) -> Option<VectorSpec> {
        let dim = violations.check(format!("{field}.dim"), Dimension::new(self.dim));
        let distance = match &self.distance {
            None => Some(Distance::Cosine),
            Some(name) => violations.check(format!("{field}.distance"), name.parse::<Distance>()),
        };
        Some(VectorSpec { dim: dim?, distance: distance?, column: self.column.clone() })
    }
}

/// Converts a map of wire vectors into domain vectors, recording violations under `prefix.<name>`.
pub fn vectors_to_domain(
    prefix: &str,
    vectors: &BTreeMap<String, VectorInput>,
    violations: &mut Violations,
) -> Option<BTreeMap<VectorName, VectorSpec>> {
    let mut converted = BTreeMap::new();
    let mut complete = true;
    for (name, input) in vectors {
        let field = format!("{prefix}.{name}");
        let parsed_name = violations.check(field.clone(), name.parse::<VectorName>());
        let spec = input.params().to_domain(&field, violations);
        match (parsed_name, spec) {
            (Some(name), Some(spec)) => {
                converted.insert(name, spec);
            }
            _ => complete = false,
        }
    }
    complete.then_some(converted)
}

/// The canonical wire form of domain vectors.
pub fn vectors_from_domain(vectors: &BTreeMap<VectorName, VectorSpec>) -> BTreeMap<String, VectorInput> {
    vectors
        .iter()
        .map(|(name, spec)| (name.to_string(), VectorInput::Params(VectorParams::from_domain(spec))))
        .collect()
}
