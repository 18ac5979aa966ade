//! The recommendation's Qdrant JSON on the wire, with its schema: the body of
//! `PUT /collections/{name}` and the `params` of a search request, in Qdrant's own REST shape.

use std::collections::BTreeMap;

use qbench_domain::Quantization;
use qbench_domain::study::{CollectionBody, QuantizationConfigBody, SearchParamsBody, VectorParamsBody, VectorsBody};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::dto::experiment::{QuantizationBody, SearchQuantizationBody};

/// Qdrant's `CreateCollection` for one build.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QdrantCollectionBody {
    /// One unnamed vector's parameters, or named vectors' by name.
    pub vectors: QdrantVectorsBody,
    /// Collection-wide quantization (Qdrant's `QuantizationConfig`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization_config: Option<QuantizationBody>,
}

/// Qdrant's `VectorsConfig`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum QdrantVectorsBody {
    /// The single unnamed vector.
    Single(QdrantVectorParams),
    /// Named vectors.
    Named(BTreeMap<String, QdrantVectorParams>),
}

/// Qdrant's `VectorParams`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QdrantVectorParams {
    /// Dimension.
    pub size: u32,
    /// `Cosine`, `Euclid`, `Dot` or `Manhattan`.
    pub distance: String,
    /// Keep the original vectors on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
    /// HNSW settings (Qdrant's `HnswConfigDiff`).
    pub hnsw_config: QdrantHnswConfig,
}

/// Qdrant's `HnswConfigDiff`, the settings a study varies.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QdrantHnswConfig {
    /// Edges per node.
    pub m: u32,
    /// Neighbours considered while building.
    pub ef_construct: u32,
    /// Keep the graph on disk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_disk: Option<bool>,
}

/// Qdrant's `SearchParams`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct QdrantSearchParams {
    /// Candidates searched per query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hnsw_ef: Option<u32>,
    /// Exact search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
    /// Use of quantized vectors (Qdrant's `QuantizationSearchParams`, the experiments' shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantization: Option<SearchQuantizationBody>,
}

fn vector_params(params: &VectorParamsBody) -> QdrantVectorParams {
    QdrantVectorParams {
        size: params.size,
        distance: params.distance.to_string(),
        on_disk: params.on_disk,
        hnsw_config: QdrantHnswConfig {
            m: params.hnsw_config.m,
            ef_construct: params.hnsw_config.ef_construct,
            on_disk: params.hnsw_config.on_disk,
        },
    }
}

impl From<&CollectionBody> for QdrantCollectionBody {
    fn from(body: &CollectionBody) -> Self {
        let vectors = match &body.vectors {
            VectorsBody::Single(params) => QdrantVectorsBody::Single(vector_params(params)),
            VectorsBody::Named(named) => QdrantVectorsBody::Named(
                named.iter().map(|(name, params)| (name.clone(), vector_params(params))).collect(),
            ),
        };
        let quantization = body.quantization_config.map(|config| match config {
            QuantizationConfigBody::Scalar(scalar) => Quantization::Scalar {
                scalar_type: scalar.scalar_type,
                quantile: scalar.quantile,
                always_ram: scalar.always_ram,
            },
            QuantizationConfigBody::Product(product) => {
                Quantization::Product { compression: product.compression, always_ram: product.always_ram }
            }
            QuantizationConfigBody::Binary(binary) => Quantization::Binary { always_ram: binary.always_ram },
        });
        Self { vectors, quantization_config: quantization.as_ref().map(QuantizationBody::from_domain) }
    }
}

impl From<&SearchParamsBody> for QdrantSearchParams {
    fn from(params: &SearchParamsBody) -> Self {
        Self {
            hnsw_ef: params.hnsw_ef,
            exact: params.exact,
            quantization: params.quantization.map(|quantization| SearchQuantizationBody {
                rescore: quantization.rescore,
                oversampling: quantization.oversampling,
                ignore: quantization.ignore,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use qbench_domain::study::{HnswConfigBody, QuantizationSearchParamsBody, ScalarQuantizationBody};
    use qbench_domain::{Distance, ScalarType};

    use super::*;

    /// The wire form is the domain's JSON exactly: typing it for the schema changed no byte.
    #[test]
    fn the_typed_body_serialises_as_the_domains_qdrant_json() {
        let params = VectorParamsBody {
            size: 768,
            distance: Distance::Cosine,
            on_disk: None,
            hnsw_config: HnswConfigBody { m: 16, ef_construct: 128, on_disk: Some(true) },
        };
        let collection = CollectionBody {
            vectors: VectorsBody::Named([("text".to_owned(), params)].into()),
            quantization_config: Some(QuantizationConfigBody::Scalar(ScalarQuantizationBody {
                scalar_type: ScalarType::Int8,
                quantile: Some(0.99),
                always_ram: None,
            })),
        };
        let wire = serde_json::to_value(QdrantCollectionBody::from(&collection)).unwrap();
        assert_eq!(wire, serde_json::to_value(&collection).unwrap());
        let search = SearchParamsBody {
            hnsw_ef: Some(64),
            exact: None,
            quantization: Some(QuantizationSearchParamsBody {
                ignore: None,
                rescore: Some(true),
                oversampling: Some(2.0),
            }),
        };
        assert_eq!(
            serde_json::to_value(QdrantSearchParams::from(&search)).unwrap(),
            serde_json::to_value(search).unwrap()
        );
    }
}
