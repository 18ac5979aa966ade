//! The run's report and its per-query rows.

use std::collections::BTreeMap;

use qbench_domain::metrics::{MeanInterval, PERCENTILE_RULE, WIDE_INTERVAL, recall_tenths};
use qbench_domain::report::{
    DatasetReport, Headline, LatencyFigures, PassReport, ProvenanceReport, RunReport, SettingReport, TruthCheckReport,
    TruthReport, UploadReport, choose_headline,
};
use qbench_storage::{DatasetInspection, QueryRecord};
use qbench_vector_store::{CollectionInfo, EngineInfo};

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

/// The report of a completed run: every (vector, setting) in full under `results`, the seed's
/// top-level figures for the headline setting ([`choose_headline`]), the ground truth's source and
/// check per vector, and every warning.
pub(crate) fn report(measured: &Measurements<'_>) -> RunReport {
    let mut warnings = measured.truth.notes.clone();
    let k = measured.plan.experiment.spec.search_config.k;
    let results: Vec<SettingReport> = measured
        .results
        .iter()
        .map(|result| {
            let setting = setting_report(result, k);
            warnings.extend(setting.flags.iter().map(|flag| format!("{} {}: {flag}", setting.vector, setting.setting)));
            setting
        })
        .collect();
    let primary = measured.plan.experiment.spec.search_config.primary_hnsw_ef;
    let chosen = choose_headline(&results, primary);
    let top = chosen.and_then(|(index, _)| results.get(index));
    let headline = chosen.zip(top).map(|((_, rule), result)| Headline {
        vector: result.vector.clone(),
        setting: result.setting.clone(),
        parallel: result.parallel,
        rule,
    });
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let upload = &measured.upload;
    RunReport {
        precision: top.map(|r| r.precision),
        recall: top.map(|r| r.recall),
        f1: top.map(|r| r.f1),
        p_50_latency: top.map(|r| r.latency.p50),
        p_95_latency: top.map(|r| r.latency.p95),
        p_99_latency: top.map(|r| r.latency.p99),
        qps: top.map(|r| r.qps),
        headline,
        upload_seconds: upload.seconds,
        index_seconds: measured.index_seconds,
        total_seconds: measured.total_seconds,
        points: upload.points,
        upload: UploadReport {
            points: upload.points,
            seconds: upload.seconds,
            points_per_second: rate(upload.points, upload.seconds),
            batch_size: upload.batch_size as u64,
            parallel: upload.parallel as u64,
        },
        results,
        dataset: DatasetReport {
            layout: format!("{:?}", measured.inspection.layout).to_lowercase(),
            files: measured.inspection.files.len() as u64,
            train_rows: measured.inspection.train_rows,
            bytes: measured.inspection.bytes,
            fingerprint: fingerprint::dataset(measured.inspection),
            queries: measured.queries.len() as u64,
            queries_from: measured.queries.origin.as_str().to_owned(),
            ground_truth: measured.truth.origin().to_owned(),
            ground_truth_vectors: truth_sources(measured.truth),
        },
        provenance: ProvenanceReport {
            qbench_version: measured.qbench_version.to_owned(),
            engine: measured.engine.engine.clone(),
            engine_version: measured.engine.version.clone(),
            collection: measured.plan.collection.name.clone(),
            collection_config: measured.collection.config.clone(),
            indexed_vectors: Some(measured.collection.indexed_vectors),
            segments: Some(measured.collection.segments),
            quantization: quantization_kind(measured.plan.collection.quantization.as_ref()).to_owned(),
            percentile_rule: PERCENTILE_RULE.to_owned(),
            cores: cores as u64,
            worker: measured.worker.to_owned(),
            collection_kept: measured.plan.experiment.spec.keep_collection,
        },
        memory_estimate: None,
        memory: measured.collection.storage.clone(),
        warnings,
        result_files: None,
        index_source: None,
    }
}

/// One setting's figures, with its flags: an exact search that misses neighbours, and figures
/// whose interval is too wide to compare.
fn setting_report(result: &SettingResult, k: u32) -> SettingReport {
    let params = &result.setting.params;
    let mut flags: Vec<String> = result.setting.flag.iter().cloned().collect();
    if params.exact && result.quality.recall < EXACT_RECALL_FLOOR {
        flags.push(format!(
            "exact search scored recall {:.4} (below {EXACT_RECALL_FLOOR}): the ground truth of `{}` may not belong \
             to this vector or distance",
            result.quality.recall, result.vector
        ));
    }
    if result.is_unstable() {
        let spread = |interval: &MeanInterval| interval.half_width_ratio() * 100.0;
        flags.push(format!(
            "unstable: QPS ±{:.0} %, p99 ±{:.0} % over {} passes (95 % interval wider than ±{:.0} %); measure longer \
             (search_config.min_seconds) or repeat more (search_config.repetitions)",
            spread(&result.qps_interval),
            spread(&result.latency_intervals[2]),
            result.passes.len(),
            WIDE_INTERVAL * 100.0
        ));
    }
    let known = |interval: &MeanInterval| interval.is_known().then_some(*interval);
    SettingReport {
        vector: result.vector.to_string(),
        setting: result.setting.label.clone(),
        hnsw_ef: params.hnsw_ef,
        exact: params.exact,
        ignore: params.quantization.as_ref().and_then(|q| q.ignore),
        rescore: params.quantization.as_ref().and_then(|q| q.rescore),
        oversampling: params.quantization.as_ref().and_then(|q| q.oversampling),
        k,
        parallel: result.parallel as u32,
        recall_histogram: recall_tenths(result.queries.iter().map(|query| query.quality.recall)),
        queries: result.quality.queries as u64,
        precision: result.quality.precision,
        recall: result.quality.recall,
        f1: result.quality.f1,
        latency: LatencyFigures::from(&result.latency),
        server_latency: result.server_latency.as_ref().map(LatencyFigures::from),
        qps: result.qps,
        search_seconds: result.seconds,
        passes: result
            .passes
            .iter()
            .map(|pass| PassReport {
                queries: pass.queries as u64,
                seconds: pass.seconds,
                qps: pass.qps,
                latency: LatencyFigures::from(&pass.latency),
            })
            .collect(),
        qps_interval: known(&result.qps_interval),
        p50_interval: known(&result.latency_intervals[0]),
        p95_interval: known(&result.latency_intervals[1]),
        p99_interval: known(&result.latency_intervals[2]),
        unstable: result.is_unstable(),
        flags,
        chosen_by: result.setting.chosen_by.clone(),
    }
}

/// Where each vector's ground truth came from, and how its neighbours file was checked.
fn truth_sources(truth: &GroundTruth) -> BTreeMap<String, TruthReport> {
    truth
        .sources
        .iter()
        .map(|(name, source)| {
            let check = source.check.as_ref().map(|check| TruthCheckReport {
                distance: check.distance.to_string(),
                queries: check.queries as u64,
                agreement: check.agreement,
                required: REQUIRED_AGREEMENT,
                passed: check.passed,
            });
            let report = TruthReport { source: source.origin.as_str().to_owned(), file: source.file.clone(), check };
            (name.to_string(), report)
        })
        .collect()
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
