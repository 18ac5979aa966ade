//! Points, searches and collection information between the port's types and Qdrant's gRPC
//! messages. Nothing here does I/O.
//!
//! Deprecated fields are read on purpose (see `config`): the configuration recorded with a run
//! shows `on_disk` and `always_ram` as older servers report them.
#![allow(deprecated)]

use std::collections::BTreeMap;
use std::time::Duration;

use qbench_domain::{Dimension, Distance, PointId, VectorName, VectorSpec};
use qbench_vector_store::{
    CollectionInfo, Point, ScoredPoint, SearchParams, SearchRequest, SearchResponse, VectorStoreError,
};
use qdrant_client::Payload;
use qdrant_client::qdrant::{
    self, BinaryQuantizationEncoding, CollectionConfig, CompressionRatio, HnswConfigDiff, NamedVectors,
    OptimizersConfigDiff, PointStruct, QuantizationConfig, QuantizationSearchParams, QuantizationType, Query,
    QueryPoints, QueryResponse, UpsertPoints, Vector, VectorInput, VectorParams, Vectors, point_id,
    quantization_config, vectors, vectors_config,
};
use serde_json::{Map, Value, json};

/// The request that stores `points` in `collection`, waiting until they are persisted
/// (`wait: true`), so the upload phase measures what the server really took.
///
/// A point whose only vector is the unnamed one is sent in Qdrant's single-vector form; any other
/// point sends its vectors by name. The payload's JSON values keep their types.
pub fn upsert_request(collection: &str, points: &[Point]) -> UpsertPoints {
    UpsertPoints {
        collection_name: collection.to_owned(),
        wait: Some(true),
        points: points.iter().map(point_struct).collect(),
        ..Default::default()
    }
}

fn point_struct(point: &Point) -> PointStruct {
    let options = match point.vectors.as_slice() {
        [(name, values)] if name.is_unnamed() => vectors::VectorsOptions::Vector(Vector::new_dense(values.clone())),
        named => vectors::VectorsOptions::Vectors(NamedVectors {
            vectors: named
                .iter()
                .map(|(name, values)| (name.as_str().to_owned(), Vector::new_dense(values.clone())))
                .collect(),
        }),
    };
    PointStruct {
        id: Some(point_id(point.id)),
        vectors: Some(Vectors { vectors_options: Some(options) }),
        payload: Payload::from(point.payload.clone()).into(),
    }
}

/// A point id on the wire: a number, or a UUID in its hyphenated form.
pub fn point_id(id: PointId) -> qdrant::PointId {
    match id {
        PointId::Num(num) => num.into(),
        PointId::Uuid(uuid) => uuid.to_string().into(),
    }
}

/// A point id from the wire.
///
/// # Errors
/// `Internal` when the id is missing or not a UUID: qbench only stores ids it can read back.
pub fn from_point_id(id: Option<&qdrant::PointId>) -> Result<PointId, VectorStoreError> {
    match id.and_then(|id| id.point_id_options.as_ref()) {
        Some(point_id::PointIdOptions::Num(num)) => Ok(PointId::Num(*num)),
        Some(point_id::PointIdOptions::Uuid(uuid)) => uuid::Uuid::parse_str(uuid)
            .map(PointId::Uuid)
            .map_err(|err| VectorStoreError::Internal(format!("the server answered point id `{uuid}`: {err}"))),
        None => Err(VectorStoreError::Internal("the server answered a point without an id".to_owned())),
    }
}

/// The query that answers `request` in `collection`: the nearest `k` points of the named vector
/// (`using`; none for the unnamed vector) under the request's search parameters, without payloads
/// or vectors, which a benchmark does not read.
pub fn query_request(collection: &str, request: SearchRequest<'_>) -> QueryPoints {
    QueryPoints {
        collection_name: collection.to_owned(),
        query: Some(Query::new_nearest(VectorInput::new_dense(request.query.to_vec()))),
        using: (!request.vector.is_unnamed()).then(|| request.vector.as_str().to_owned()),
        limit: Some(u64::from(request.k)),
        params: Some(search_params(request.params)),
        with_payload: Some(false.into()),
        with_vectors: Some(false.into()),
        ..Default::default()
    }
}

/// Qdrant's `SearchParams`: `hnsw_ef`, `exact`, and the use of quantized vectors (`rescore`,
/// `oversampling`).
pub fn search_params(params: &SearchParams) -> qdrant::SearchParams {
    qdrant::SearchParams {
        hnsw_ef: params.hnsw_ef.map(u64::from),
        exact: Some(params.exact),
        quantization: params.quantization.as_ref().map(|quantization| QuantizationSearchParams {
            ignore: quantization.ignore,
            rescore: quantization.rescore,
            oversampling: quantization.oversampling,
        }),
        ..Default::default()
    }
}

/// The port's answer from Qdrant's: the points best first, and the server's own time for the
/// query (`time`, in seconds).
///
/// # Errors
/// `Internal` when a point id cannot be read.
pub fn search_response(response: &QueryResponse) -> Result<SearchResponse, VectorStoreError> {
    let points = response
        .result
        .iter()
        .map(|point| Ok(ScoredPoint { id: from_point_id(point.id.as_ref())?, score: point.score }))
        .collect::<Result<_, VectorStoreError>>()?;
    Ok(SearchResponse { points, server_time: Duration::try_from_secs_f64(response.time).ok() })
}

/// What the port reports about a collection: points, indexed vectors, segments, and the
/// configuration as JSON (see [`config_json`]).
pub fn collection_info(info: &qdrant::CollectionInfo) -> CollectionInfo {
    CollectionInfo {
        points: info.points_count.unwrap_or(0),
        indexed_vectors: info.indexed_vectors_count.unwrap_or(0),
        segments: info.segments_count,
        config: info.config.as_ref().map_or(Value::Null, config_json),
        // The gRPC answer carries no sizes.
        storage: None,
    }
}

/// The dense vectors of a collection as the server reports them: name (the single-vector form
/// and the empty name are the unnamed vector), dimension and distance. A collection of sparse
/// vectors only has none.
///
/// # Errors
/// `Internal` for a vector whose name, dimension or distance qbench cannot hold.
pub fn collection_vectors(info: &qdrant::CollectionInfo) -> Result<BTreeMap<VectorName, VectorSpec>, VectorStoreError> {
    let config = info
        .config
        .as_ref()
        .and_then(|config| config.params.as_ref())
        .and_then(|params| params.vectors_config.as_ref())
        .and_then(|vectors| vectors.config.as_ref());
    let named: Vec<(&str, &VectorParams)> = match config {
        Some(vectors_config::Config::Params(single)) => vec![("", single)],
        Some(vectors_config::Config::ParamsMap(map)) => {
            map.map.iter().map(|(name, params)| (name.as_str(), params)).collect()
        }
        None => Vec::new(),
    };
    named.into_iter().map(|(name, params)| vector_spec(name, params)).collect()
}

fn vector_spec(name: &str, params: &VectorParams) -> Result<(VectorName, VectorSpec), VectorStoreError> {
    let unreadable = |why: String| VectorStoreError::Internal(format!("the server's vector `{name}`: {why}"));
    let vector = if name.is_empty() {
        VectorName::unnamed()
    } else {
        name.parse::<VectorName>().map_err(|err| unreadable(err.to_string()))?
    };
    let dim = u32::try_from(params.size)
        .ok()
        .and_then(|size| Dimension::new(size).ok())
        .ok_or_else(|| unreadable(format!("dimension {} is out of range", params.size)))?;
    let distance = match qdrant::Distance::try_from(params.distance) {
        Ok(qdrant::Distance::Cosine) => Distance::Cosine,
        Ok(qdrant::Distance::Euclid) => Distance::Euclid,
        Ok(qdrant::Distance::Dot) => Distance::Dot,
        Ok(qdrant::Distance::Manhattan) => Distance::Manhattan,
        Ok(qdrant::Distance::UnknownDistance) | Err(_) => {
            return Err(unreadable(format!("distance {} is not one qbench knows", params.distance)));
        }
    };
    Ok((vector, VectorSpec::new(dim, distance)))
}

/// A collection's configuration as JSON, shaped like Qdrant's REST answer (`params.vectors`,
/// `hnsw_config`, `optimizer_config`, `wal_config`, `quantization_config`), for a run's provenance.
/// Fields the server leaves unset are left out; enumerations are written by name.
pub fn config_json(config: &CollectionConfig) -> Value {
    let mut out = Map::new();
    if let Some(params) = &config.params {
        let mut rendered = Map::new();
        match params.vectors_config.as_ref().and_then(|vectors| vectors.config.as_ref()) {
            Some(vectors_config::Config::Params(single)) => {
                rendered.insert("vectors".to_owned(), vector_params_json(single));
            }
            Some(vectors_config::Config::ParamsMap(map)) => {
                let mut names: Vec<(&String, &VectorParams)> = map.map.iter().collect();
                names.sort_by(|a, b| a.0.cmp(b.0));
                let vectors: Map<String, Value> =
                    names.into_iter().map(|(name, params)| (name.clone(), vector_params_json(params))).collect();
                rendered.insert("vectors".to_owned(), Value::Object(vectors));
            }
            None => {}
        }
        rendered.insert("shard_number".to_owned(), json!(params.shard_number));
        insert(&mut rendered, "replication_factor", params.replication_factor);
        insert(&mut rendered, "write_consistency_factor", params.write_consistency_factor);
        rendered.insert("on_disk_payload".to_owned(), json!(params.on_disk_payload));
        out.insert("params".to_owned(), Value::Object(rendered));
    }
    if let Some(hnsw) = &config.hnsw_config {
        out.insert("hnsw_config".to_owned(), hnsw_json(hnsw));
    }
    if let Some(optimizers) = &config.optimizer_config {
        out.insert("optimizer_config".to_owned(), optimizers_json(optimizers));
    }
    if let Some(wal) = &config.wal_config {
        let mut rendered = Map::new();
        insert(&mut rendered, "wal_capacity_mb", wal.wal_capacity_mb);
        insert(&mut rendered, "wal_segments_ahead", wal.wal_segments_ahead);
        insert(&mut rendered, "wal_retain_closed", wal.wal_retain_closed);
        out.insert("wal_config".to_owned(), Value::Object(rendered));
    }
    out.insert(
        "quantization_config".to_owned(),
        config.quantization_config.as_ref().map_or(Value::Null, quantization_json),
    );
    Value::Object(out)
}

fn vector_params_json(params: &VectorParams) -> Value {
    let mut out = Map::new();
    out.insert("size".to_owned(), json!(params.size));
    let distance = qdrant::Distance::try_from(params.distance).map_or("Unknown", |distance| distance.as_str_name());
    out.insert("distance".to_owned(), json!(distance));
    if let Some(hnsw) = &params.hnsw_config {
        out.insert("hnsw_config".to_owned(), hnsw_json(hnsw));
    }
    if let Some(quantization) = &params.quantization_config {
        out.insert("quantization_config".to_owned(), quantization_json(quantization));
    }
    insert(&mut out, "on_disk", params.on_disk);
    Value::Object(out)
}

fn hnsw_json(hnsw: &HnswConfigDiff) -> Value {
    let mut out = Map::new();
    insert(&mut out, "m", hnsw.m);
    insert(&mut out, "ef_construct", hnsw.ef_construct);
    insert(&mut out, "full_scan_threshold", hnsw.full_scan_threshold);
    insert(&mut out, "max_indexing_threads", hnsw.max_indexing_threads);
    insert(&mut out, "on_disk", hnsw.on_disk);
    insert(&mut out, "payload_m", hnsw.payload_m);
    Value::Object(out)
}

fn optimizers_json(optimizers: &OptimizersConfigDiff) -> Value {
    let mut out = Map::new();
    insert(&mut out, "deleted_threshold", optimizers.deleted_threshold);
    insert(&mut out, "vacuum_min_vector_number", optimizers.vacuum_min_vector_number);
    insert(&mut out, "default_segment_number", optimizers.default_segment_number);
    insert(&mut out, "max_segment_size", optimizers.max_segment_size);
    insert(&mut out, "memmap_threshold", optimizers.memmap_threshold);
    insert(&mut out, "indexing_threshold", optimizers.indexing_threshold);
    insert(&mut out, "flush_interval_sec", optimizers.flush_interval_sec);
    Value::Object(out)
}

fn quantization_json(quantization: &QuantizationConfig) -> Value {
    match &quantization.quantization {
        Some(quantization_config::Quantization::Scalar(scalar)) => {
            let mut out = Map::new();
            let kind = QuantizationType::try_from(scalar.r#type).map_or("Unknown", |kind| kind.as_str_name());
            out.insert("type".to_owned(), json!(kind.to_ascii_lowercase()));
            insert(&mut out, "quantile", scalar.quantile);
            insert(&mut out, "always_ram", scalar.always_ram);
            json!({ "scalar": out })
        }
        Some(quantization_config::Quantization::Product(product)) => {
            let mut out = Map::new();
            let ratio = CompressionRatio::try_from(product.compression).map_or("Unknown", |ratio| ratio.as_str_name());
            out.insert("compression".to_owned(), json!(ratio.to_ascii_lowercase()));
            insert(&mut out, "always_ram", product.always_ram);
            json!({ "product": out })
        }
        Some(quantization_config::Quantization::Binary(binary)) => {
            let mut out = Map::new();
            insert(&mut out, "always_ram", binary.always_ram);
            if let Some(encoding) = binary.encoding {
                let encoding =
                    BinaryQuantizationEncoding::try_from(encoding).map_or("Unknown", |encoding| encoding.as_str_name());
                out.insert("encoding".to_owned(), json!(encoding));
            }
            json!({ "binary": out })
        }
        Some(quantization_config::Quantization::Turboquant(turbo)) => {
            let mut out = Map::new();
            insert(&mut out, "bits", turbo.bits);
            insert(&mut out, "always_ram", turbo.always_ram);
            json!({ "turboquant": out })
        }
        None => Value::Null,
    }
}

fn insert<T: Into<Value>>(out: &mut Map<String, Value>, key: &str, value: Option<T>) {
    if let Some(value) = value {
        out.insert(key.to_owned(), value.into());
    }
}
