//! The run's metrics document and its per-query rows.

use qbench_domain::metrics::{LatencySummary, PERCENTILE_RULE};
use qbench_storage::{DatasetInspection, QueryRecord};
use qbench_vector_store::{CollectionInfo, EngineInfo};
use serde_json::{Value, json};

use crate::execution::fingerprint;
use crate::execution::ground_truth::{GroundTruth, REQUIRED_AGREEMENT};
use crate::execution::plan::{RunPlan, quantization_kind};
use crate::execution::queries::QuerySet;
use crate::execution::search::SettingResult;
use crate::execution::upload::UploadStats;

/// Below this recall an exact-search setting is flagged: exact search scored against a right
/// ground truth finds (nearly) every neighbour.
pub(crate) const EXACT_RECALL_FLOOR: f64 = 0.99;

/// Everything measured by a run.
pub(crate) struct Measurements<'a> {
    pub(crate) plan: &'a RunPlan,
    pub(crate) inspection: &'a DatasetInspection,
    pub(crate) queries: &'a QuerySet,
    pub(crate) truth: &'a GroundTruth,
    pub(crate) engine: &'a EngineInfo,
    pub(crate) collection: &'a CollectionInfo,
    pub(crate) upload: UploadStats,
    pub(crate) index_seconds: f64,
    pub(crate) results: &'a [SettingResult],
    pub(crate) total_seconds: f64,
    pub(crate) qbench_version: &'a str,
    pub(crate) worker: &'a str,
}

fn latency_json(summary: &LatencySummary) -> Value {
    json!({"p50": summary.p50, "p95": summary.p95, "p99": summary.p99, "max": summary.max, "mean": summary.mean})
}

/// The `metrics` of a completed run: the seed's top-level keys for the first search setting, and
/// every (vector, setting) in full under `results`.
pub(crate) fn metrics(measured: &Measurements<'_>) -> Value {
    let mut warnings = measured.truth.notes.clone();
    let results: Vec<Value> = measured
        .results
        .iter()
        .map(|result| {
            let params = &result.setting.params;
            let mut flags = Vec::new();
            if params.exact && result.quality.recall < EXACT_RECALL_FLOOR {
                let flag = format!(
                    "exact search scored recall {:.4} (below {EXACT_RECALL_FLOOR}): the ground truth of `{}` may \
                     not belong to this vector or distance",
                    result.quality.recall, result.vector
                );
                warnings.push(flag.clone());
                flags.push(flag);
            }
            json!({
                "flags": flags,
                "vector": result.vector.to_string(),
                "setting": result.setting.label,
                "hnsw_ef": params.hnsw_ef,
                "exact": params.exact,
                "rescore": params.quantization.as_ref().and_then(|q| q.rescore),
                "oversampling": params.quantization.as_ref().and_then(|q| q.oversampling),
                "k": measured.plan.experiment.spec.search_config.k,
                "parallel": result.parallel,
                "queries": result.quality.queries,
                "precision": result.quality.precision,
                "recall": result.quality.recall,
                "f1": result.quality.f1,
                "latency": latency_json(&result.latency),
                "server_latency": result.server_latency.as_ref().map(latency_json),
                "qps": result.qps,
                "search_seconds": result.seconds,
            })
        })
        .collect();
    let first = measured.results.first();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    json!({
        "precision": first.map(|r| r.quality.precision),
        "recall": first.map(|r| r.quality.recall),
        "f1": first.map(|r| r.quality.f1),
        "p_50_latency": first.map(|r| r.latency.p50),
        "p_95_latency": first.map(|r| r.latency.p95),
        "p_99_latency": first.map(|r| r.latency.p99),
        "qps": first.map(|r| r.qps),
        "upload_seconds": measured.upload.seconds,
        "index_seconds": measured.index_seconds,
        "total_seconds": measured.total_seconds,
        "points": measured.upload.points,
        "upload": {
            "points": measured.upload.points,
            "seconds": measured.upload.seconds,
            "points_per_second": rate(measured.upload.points, measured.upload.seconds),
            "batch_size": measured.upload.batch_size,
            "parallel": measured.upload.parallel,
        },
        "results": results,
        "dataset": {
            "layout": format!("{:?}", measured.inspection.layout).to_lowercase(),
            "files": measured.inspection.files.len(),
            "train_rows": measured.inspection.train_rows,
            "bytes": measured.inspection.bytes,
            "fingerprint": fingerprint::dataset(measured.inspection),
            "queries": measured.queries.len(),
            "queries_from": measured.queries.origin.as_str(),
            "ground_truth": measured.truth.origin(),
            "ground_truth_vectors": truth_sources(measured.truth),
        },
        "warnings": warnings,
        "provenance": {
            "qbench_version": measured.qbench_version,
            "engine": measured.engine.engine,
            "engine_version": measured.engine.version,
            "collection": measured.plan.collection.name,
            "collection_config": measured.collection.config,
            "indexed_vectors": measured.collection.indexed_vectors,
            "segments": measured.collection.segments,
            "quantization": quantization_kind(measured.plan.collection.quantization.as_ref()),
            "percentile_rule": PERCENTILE_RULE,
            "cores": cores,
            "worker": measured.worker,
            "collection_kept": measured.plan.experiment.spec.keep_collection,
        },
    })
}

/// Where each vector's ground truth came from, and how its neighbours file was checked.
fn truth_sources(truth: &GroundTruth) -> Value {
    let sources: serde_json::Map<String, Value> = truth
        .sources
        .iter()
        .map(|(name, source)| {
            let check = source.check.as_ref().map(|check| {
                json!({
                    "distance": check.distance.to_string(),
                    "queries": check.queries,
                    "agreement": check.agreement,
                    "required": REQUIRED_AGREEMENT,
                    "passed": check.passed,
                })
            });
            (name.to_string(), json!({"source": source.origin.as_str(), "file": source.file, "check": check}))
        })
        .collect();
    Value::Object(sources)
}

fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 { count as f64 / seconds } else { 0.0 }
}

/// One row per query and setting.
pub(crate) fn query_records(results: &[SettingResult], queries: &QuerySet, truth: &GroundTruth) -> Vec<QueryRecord> {
    results
        .iter()
        .flat_map(|result| {
            let truths = truth.neighbors.get(&result.vector);
            result.queries.iter().enumerate().map(move |(index, query)| QueryRecord {
                vector: result.vector.to_string(),
                setting: result.setting.label.clone(),
                query_id: queries.ids.get(index).map(ToString::to_string).unwrap_or_default(),
                latency_seconds: query.latency.as_secs_f64(),
                server_seconds: query.response.server_time.map(|time| time.as_secs_f64()),
                precision: query.quality.precision,
                recall: query.quality.recall,
                f1: query.quality.f1,
                returned_ids: query.response.points.iter().map(|point| point.id.to_string()).collect(),
                true_ids: truths
                    .and_then(|lists| lists.get(index))
                    .map(|list| list.iter().map(|(id, _)| id.to_string()).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}
