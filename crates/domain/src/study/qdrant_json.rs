//! The recommendation as JSON ready to apply to Qdrant's REST API: the body of
//! `PUT /collections/{name}` and the `params` of a search request.
//!
//! Field names follow Qdrant's OpenAPI schemas (`CreateCollection`, `VectorParams`,
//! `HnswConfigDiff`, `QuantizationConfig`, `SearchParams`, `QuantizationSearchParams`); unset
//! options are left out so that Qdrant applies its own defaults.

use std::collections::BTreeMap;

use crate::dataset::display_name;
use crate::study::{BuildConfig, SearchSettingChoice};
use crate::{Distance, DomainError, ProductCompression, Quantization, ScalarType, SchemaConfig};

/// The body of Qdrant's `PUT /collections/{name}` (`CreateCollection`) for one build.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CollectionBody {
    /// The vectors and their index settings.
    pub vectors: VectorsBody,
    /// Collection-wide quantization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization_config: Option<QuantizationConfigBody>,
}

/// Qdrant's `VectorsConfig`: one unnamed vector, or named vectors.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum VectorsBody {
    /// The single unnamed (default) vector.
    Single(VectorParamsBody),
    /// Named vectors, by name.
    Named(BTreeMap<String, VectorParamsBody>),
}

/// Qdrant's `VectorParams`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VectorParamsBody {
    /// Dimension.
    pub size: u32,
    /// Similarity function (`Cosine`, `Euclid`, `Dot`, `Manhattan`).
    pub distance: Distance,
    /// Keep the original vectors on disk; a study does not vary it and leaves it unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// The vector's HNSW settings.
    pub hnsw_config: HnswConfigBody,
}

/// Qdrant's `HnswConfigDiff`, with the settings a study varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HnswConfigBody {
    /// Edges per node.
    pub m: u32,
    /// Neighbours considered while building.
    pub ef_construct: u32,
    /// Keep the graph on disk; left out when in RAM (Qdrant's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
}

/// Qdrant's `QuantizationConfig`: `{"scalar": {...}}`, `{"product": {...}}` or `{"binary": {...}}`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuantizationConfigBody {
    /// Qdrant's `ScalarQuantization`.
    Scalar(ScalarQuantizationBody),
    /// Qdrant's `ProductQuantization`.
    Product(ProductQuantizationBody),
    /// Qdrant's `BinaryQuantization`.
    Binary(BinaryQuantizationBody),
}

/// Qdrant's `ScalarQuantizationConfig`.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScalarQuantizationBody {
    /// Element type (`int8`).
    #[serde(rename = "type")]
    pub scalar_type: ScalarType,
    /// Quantile used to clip outliers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    /// Keep quantized vectors in RAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
}

/// Qdrant's `ProductQuantizationConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProductQuantizationBody {
    /// Compression ratio (`x4` … `x64`).
    pub compression: ProductCompression,
    /// Keep quantized vectors in RAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
}

/// Qdrant's `BinaryQuantizationConfig`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BinaryQuantizationBody {
    /// Keep quantized vectors in RAM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub always_ram: Option<bool>,
}

impl From<&Quantization> for QuantizationConfigBody {
    fn from(quantization: &Quantization) -> Self {
        match *quantization {
            Quantization::Scalar { scalar_type, quantile, always_ram } => {
                Self::Scalar(ScalarQuantizationBody { scalar_type, quantile, always_ram })
            }
            Quantization::Product { compression, always_ram } => {
                Self::Product(ProductQuantizationBody { compression, always_ram })
            }
            Quantization::Binary { always_ram } => Self::Binary(BinaryQuantizationBody { always_ram }),
        }
    }
}

impl CollectionBody {
    /// The collection of `build`, with each vector's dimension and distance from `dataset`.
    ///
    /// # Errors
    ///
    /// `Invalid` when a vector of the build is not in the dataset, or when the unnamed vector is
    /// combined with named ones (Qdrant's `vectors` is one or the other).
    pub fn new(build: &BuildConfig, dataset: &SchemaConfig) -> Result<Self, DomainError> {
        let mut named = BTreeMap::new();
        let mut single = None;
        for (name, vector) in &build.vectors {
            let Some(spec) = dataset.vectors.get(name) else {
                return Err(DomainError::invalid(
                    format!("vectors.{name}"),
                    format!("vector {} is not in the dataset", display_name(name)),
                ));
            };
            let params = VectorParamsBody {
                size: spec.dim.get(),
                distance: spec.distance,
                on_disk: None,
                hnsw_config: HnswConfigBody {
                    m: vector.m,
                    ef_construct: vector.ef_construct,
                    on_disk: vector.on_disk.then_some(true),
                },
            };
            if name.is_unnamed() {
                single = Some(params);
            } else {
                named.insert(name.to_string(), params);
            }
        }
        let vectors = match single {
            Some(params) if named.is_empty() => VectorsBody::Single(params),
            Some(_) => {
                return Err(DomainError::invalid(
                    "vectors",
                    "the unnamed vector cannot be combined with named vectors",
                ));
            }
            None => VectorsBody::Named(named),
        };
        Ok(Self { vectors, quantization_config: build.quantization.as_ref().map(QuantizationConfigBody::from) })
    }
}

/// Qdrant's `SearchParams`: the `params` of a search or query request.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchParamsBody {
    /// Candidates searched per query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hnsw_ef: Option<u32>,
    /// Exact search; left out when false (Qdrant's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
    /// Use of quantized vectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantization: Option<QuantizationSearchParamsBody>,
}

/// Qdrant's `QuantizationSearchParams`.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QuantizationSearchParamsBody {
    /// Search the original vectors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore: Option<bool>,
    /// Re-score the candidates with the original vectors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rescore: Option<bool>,
    /// Fetch `oversampling × limit` candidates before re-scoring.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oversampling: Option<f64>,
}

impl From<&SearchSettingChoice> for SearchParamsBody {
    fn from(setting: &SearchSettingChoice) -> Self {
        Self {
            hnsw_ef: setting.hnsw_ef,
            exact: setting.exact.then_some(true),
            quantization: setting.quantization.map(|q| QuantizationSearchParamsBody {
                ignore: q.ignore,
                rescore: q.rescore,
                oversampling: q.oversampling,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use expect_test::{Expect, expect};

    use super::*;
    use crate::study::{QuantizationChoice, SearchQuantizationChoice, VectorBuild};
    use crate::{Dimension, VectorName, VectorSpec};

    fn dataset() -> SchemaConfig {
        SchemaConfig::from_vectors([
            ("text", VectorSpec::new(Dimension::new(768).unwrap(), Distance::Cosine)),
            ("image", VectorSpec::new(Dimension::new(512).unwrap(), Distance::Euclid)),
        ])
        .unwrap()
    }

    fn build(vectors: &[(&str, u32, u32, bool)], quantization: Option<Quantization>) -> BuildConfig {
        BuildConfig {
            vectors: vectors
                .iter()
                .map(|&(name, m, ef_construct, on_disk)| {
                    let name = if name.is_empty() { VectorName::unnamed() } else { name.parse().unwrap() };
                    (name, VectorBuild { m, ef_construct, on_disk })
                })
                .collect(),
            quantization,
        }
    }

    fn check_json(value: &impl serde::Serialize, expected: Expect) {
        expected.assert_eq(&serde_json::to_string_pretty(value).unwrap());
    }

    #[test]
    fn named_vectors_with_scalar_quantization() {
        let build = build(
            &[("text", 16, 128, false), ("image", 32, 256, true)],
            QuantizationChoice::Scalar(ScalarType::Int8).quantization(),
        );
        check_json(
            &CollectionBody::new(&build, &dataset()).unwrap(),
            expect![[r#"
                {
                  "vectors": {
                    "image": {
                      "size": 512,
                      "distance": "Euclid",
                      "hnsw_config": {
                        "m": 32,
                        "ef_construct": 256,
                        "on_disk": true
                      }
                    },
                    "text": {
                      "size": 768,
                      "distance": "Cosine",
                      "hnsw_config": {
                        "m": 16,
                        "ef_construct": 128
                      }
                    }
                  },
                  "quantization_config": {
                    "scalar": {
                      "type": "int8"
                    }
                  }
                }"#]],
        );
    }

    #[test]
    fn the_unnamed_vector_is_the_single_vectors_form() {
        let dataset = SchemaConfig {
            scalar_fields: Vec::new(),
            vectors: [(VectorName::unnamed(), VectorSpec::new(Dimension::new(4).unwrap(), Distance::Manhattan))].into(),
        };
        check_json(
            &CollectionBody::new(&build(&[("", 8, 64, false)], None), &dataset).unwrap(),
            expect![[r#"
                {
                  "vectors": {
                    "size": 4,
                    "distance": "Manhattan",
                    "hnsw_config": {
                      "m": 8,
                      "ef_construct": 64
                    }
                  }
                }"#]],
        );
    }

    #[test]
    fn every_quantization_takes_qdrants_shape() {
        let quantizations = [
            Quantization::Scalar { scalar_type: ScalarType::Int8, quantile: Some(0.99), always_ram: Some(true) },
            Quantization::Product { compression: ProductCompression::X16, always_ram: Some(false) },
            Quantization::Binary { always_ram: None },
        ];
        let bodies: Vec<QuantizationConfigBody> = quantizations.iter().map(QuantizationConfigBody::from).collect();
        check_json(
            &bodies,
            expect![[r#"
                [
                  {
                    "scalar": {
                      "type": "int8",
                      "quantile": 0.99,
                      "always_ram": true
                    }
                  },
                  {
                    "product": {
                      "compression": "x16",
                      "always_ram": false
                    }
                  },
                  {
                    "binary": {}
                  }
                ]"#]],
        );
    }

    #[test]
    fn a_vector_missing_from_the_dataset_is_an_error() {
        let error = CollectionBody::new(&build(&[("audio", 16, 128, false)], None), &dataset()).unwrap_err();
        assert_eq!(error, DomainError::invalid("vectors.audio", "vector `audio` is not in the dataset"));
    }

    #[test]
    fn the_unnamed_vector_with_named_ones_is_an_error() {
        let mut dataset = dataset();
        dataset.vectors.insert(VectorName::unnamed(), VectorSpec::new(Dimension::new(4).unwrap(), Distance::Dot));
        let error = CollectionBody::new(&build(&[("", 8, 64, false), ("text", 8, 64, false)], None), &dataset);
        assert_eq!(
            error,
            Err(DomainError::invalid("vectors", "the unnamed vector cannot be combined with named vectors"))
        );
    }

    #[test]
    fn search_params_leave_out_what_is_not_set() {
        let approximate = SearchSettingChoice { hnsw_ef: Some(128), exact: false, quantization: None };
        check_json(
            &SearchParamsBody::from(&approximate),
            expect![[r#"
                {
                  "hnsw_ef": 128
                }"#]],
        );
        let quantized = SearchSettingChoice {
            hnsw_ef: Some(64),
            exact: false,
            quantization: Some(SearchQuantizationChoice {
                ignore: Some(false),
                rescore: Some(true),
                oversampling: Some(2.0),
            }),
        };
        check_json(
            &SearchParamsBody::from(&quantized),
            expect![[r#"
                {
                  "hnsw_ef": 64,
                  "quantization": {
                    "ignore": false,
                    "rescore": true,
                    "oversampling": 2.0
                  }
                }"#]],
        );
        let exact = SearchSettingChoice {
            hnsw_ef: None,
            exact: true,
            quantization: Some(SearchQuantizationChoice { ignore: Some(true), rescore: None, oversampling: None }),
        };
        check_json(
            &SearchParamsBody::from(&exact),
            expect![[r#"
                {
                  "exact": true,
                  "quantization": {
                    "ignore": true
                  }
                }"#]],
        );
    }
}
