//! Points, ids and searches between the port's types and the engine's.

use qbench_domain::PointId;
use qbench_vector_store::{Point, ScoredPoint, SearchRequest, VectorStoreError};
use qdrant_edge::{
    NamedQuery, PointStruct, PointStructPersisted, QuantizationSearchParams, QueryEnum, VectorInternal, Vectors,
};

use crate::config::Layout;

/// The engine's id of a point.
pub(crate) fn to_engine_id(id: PointId) -> qdrant_edge::PointId {
    match id {
        PointId::Num(id) => qdrant_edge::PointId::NumId(id),
        PointId::Uuid(id) => qdrant_edge::PointId::Uuid(id),
    }
}

/// The port's id of a point the engine returned.
pub(crate) fn from_engine_id(id: qdrant_edge::PointId) -> PointId {
    match id {
        qdrant_edge::PointId::NumId(id) => PointId::Num(id),
        qdrant_edge::PointId::Uuid(id) => PointId::Uuid(id),
    }
}

/// The engine's points of a batch, checked against the collection's layout first: the engine
/// writes a batch to its log before it looks at the vectors, so a wrong name or dimension is
/// refused here, before anything is stored.
///
/// # Errors
/// `Rejected` naming the first point with a vector the collection does not have or of the wrong
/// dimension.
pub(crate) fn to_engine_points(
    layout: &Layout,
    points: &[Point],
) -> Result<Vec<PointStructPersisted>, VectorStoreError> {
    points
        .iter()
        .map(|point| {
            for (name, vector) in &point.vectors {
                check_vector(layout, name.as_str(), vector.len())
                    .map_err(|problem| VectorStoreError::Rejected(format!("point {}: {problem}", point.id)))?;
            }
            let vectors =
                Vectors::new_named(point.vectors.iter().map(|(name, vector)| (name.as_str(), vector.clone())));
            // The payload is a JSON object by construction, which the engine requires (it
            // panics on anything else).
            let payload = serde_json::Value::Object(point.payload.clone());
            Ok(PointStruct::new(to_engine_id(point.id), vectors, payload).into())
        })
        .collect()
}

/// The engine's request for one query, checked against the collection's layout.
///
/// # Errors
/// `Rejected` when the collection has no such vector or the query has the wrong dimension.
pub(crate) fn to_engine_search(
    layout: &Layout,
    request: &SearchRequest<'_>,
) -> Result<qdrant_edge::SearchRequest, VectorStoreError> {
    check_vector(layout, request.vector.as_str(), request.query.len()).map_err(VectorStoreError::Rejected)?;
    let params = request.params;
    Ok(qdrant_edge::SearchRequest {
        query: QueryEnum::Nearest(NamedQuery {
            query: VectorInternal::from(request.query.to_vec()),
            using: Some(request.vector.as_str().to_owned()),
        }),
        filter: None,
        params: Some(qdrant_edge::SearchParams {
            hnsw_ef: params.hnsw_ef.map(|ef| ef as usize),
            exact: params.exact,
            quantization: params.quantization.as_ref().map(|quantization| QuantizationSearchParams {
                ignore: quantization.ignore.unwrap_or(false),
                rescore: quantization.rescore,
                oversampling: quantization.oversampling,
            }),
            indexed_only: false,
            acorn: None,
        }),
        limit: request.k as usize,
        offset: 0,
        with_payload: None,
        with_vector: None,
        score_threshold: None,
    })
}

/// The port's result of one engine hit: similarity for `Cosine`/`Dot`, distance for
/// `Euclid`/`Manhattan`, as the engine scores them.
pub(crate) fn from_engine_hit(hit: &qdrant_edge::ScoredPoint) -> ScoredPoint {
    ScoredPoint { id: from_engine_id(hit.id), score: hit.score }
}

fn check_vector(layout: &Layout, name: &str, len: usize) -> Result<(), String> {
    match layout.dim(name) {
        None => Err(format!("the collection has no vector `{name}` (it has {})", layout.names())),
        Some(dim) if dim != len => Err(format!("vector `{name}` has {len} components, the collection expects {dim}")),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let uuid = uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
        for id in [PointId::Num(0), PointId::Num(u64::MAX), PointId::Uuid(uuid)] {
            assert_eq!(from_engine_id(to_engine_id(id)), id);
        }
    }
}
