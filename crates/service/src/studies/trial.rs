//! One trial of a study: the experiment that builds one configuration and measures the search
//! settings on it, and the points its report gives.

use qbench_domain::report::RunReport;
use qbench_domain::study::{
    BuildConfig, SearchQuantizationChoice, SearchSettingChoice, StudySpec, TrialPoint, TrialQuality,
};
use qbench_domain::study::{EfValues, Strategy, sample_target};
use qbench_domain::{EfSearch, ExperimentSpec, PointSample, SearchConfig, SearchQuantization};

/// The experiment of `build`: its index and quantization, every `hnsw_ef` of the space measured
/// on it with every set of quantization parameters of the space (and exact search when the space
/// asks for it), with the first client count and then the others, and the study's `k`, vectors
/// and repetitions.
pub(crate) fn experiment_spec(study: &StudySpec, build: &BuildConfig, name: String) -> ExperimentSpec {
    let settings = study.space.search_settings(build);
    let mut hnsw_ef: Vec<u32> = settings.iter().filter_map(|setting| setting.hnsw_ef).collect();
    hnsw_ef.sort_unstable();
    hnsw_ef.dedup();
    let mut quantizations: Vec<Option<SearchQuantization>> = Vec::new();
    for setting in settings.iter().filter(|setting| !setting.exact) {
        let choice = setting.quantization.and_then(SearchQuantizationChoice::search_quantization);
        if !quantizations.contains(&choice) {
            quantizations.push(choice);
        }
    }
    let mut quantizations = quantizations.into_iter();
    let quantization = quantizations.next().flatten();
    // Qdrant's defaults as a set of its own: every field left unset.
    let quantization_sweep: Vec<SearchQuantization> = quantizations.map(Option::unwrap_or_default).collect();
    let with_exact = settings.iter().any(|setting| setting.exact);
    // `auto`: each build finds its own cheapest hnsw_ef in the space's range by bisection.
    let ef_search = (study.strategy == Strategy::Auto).then(|| {
        let (min, max) = match &study.space.search.hnsw_ef {
            EfValues::Range { min, max } => (*min, *max),
            EfValues::List(values) => {
                (values.iter().copied().min().unwrap_or(study.k), values.iter().copied().max().unwrap_or(study.k))
            }
        };
        EfSearch { min, max, metric: study.objective.metric, target: study.objective.target }
    });
    if ef_search.is_some() {
        hnsw_ef.clear();
    }
    let mut spec = ExperimentSpec::new(name, study.dataset_id, study.connection_id);
    spec.optimizer_config = build.optimizer_config();
    spec.search_config = SearchConfig {
        k: study.k,
        hnsw_ef,
        hnsw_ef_search: ef_search,
        quantization,
        quantization_sweep,
        with_exact,
        parallel: study.space.parallel.first().copied().unwrap_or(SearchConfig::DEFAULT_PARALLEL),
        parallel_sweep: study.space.parallel.iter().skip(1).copied().collect(),
        vectors: study.vectors.clone(),
        repetitions: Some(study.repetitions),
        ..SearchConfig::default()
    };
    spec
}

/// Seconds each setting is measured for in a sample round: enough to rank builds, not to report.
const SAMPLE_SECONDS: f64 = 0.25;

/// Turns a trial's experiment into a round on `sample` of the points: one quick pass per setting
/// and the first client count only, since a sample round ranks builds and reports nothing; an
/// `hnsw_ef` search aims at the sample's stricter target (`sample_target`).
pub(crate) fn on_sample(spec: &mut ExperimentSpec, sample: PointSample) {
    if let Some(search) = &mut spec.search_config.hnsw_ef_search {
        search.target = sample_target(search.target, sample.fraction);
    }
    spec.upload_config.sample = Some(sample);
    spec.search_config.min_seconds = Some(SAMPLE_SECONDS);
    spec.search_config.repetitions = Some(1);
    spec.search_config.parallel_sweep.clear();
}

/// The points of a trial's report: one per vector × setting measured.
pub(crate) fn points(build: &BuildConfig, report: &RunReport) -> Vec<(String, TrialPoint)> {
    // RAM as measured on the engine; the estimate made before the run for engines that do not say.
    let memory = report
        .memory
        .as_ref()
        .map(|usage| usage.total().ram_bytes)
        .or_else(|| report.memory_estimate.as_ref().map(|estimate| estimate.total_bytes));
    report
        .results
        .iter()
        .map(|result| {
            let setting = SearchSettingChoice {
                hnsw_ef: result.hnsw_ef,
                exact: result.exact,
                quantization: (result.ignore.is_some() || result.rescore.is_some() || result.oversampling.is_some())
                    .then_some(SearchQuantizationChoice {
                        ignore: result.ignore,
                        rescore: result.rescore,
                        oversampling: result.oversampling,
                    }),
            };
            let point = TrialPoint {
                build: build.clone(),
                setting,
                parallel: result.parallel,
                quality: TrialQuality { recall: result.recall, precision: result.precision, f1: result.f1 },
                qps: result.qps,
                p99_seconds: result.latency.p99,
                memory_bytes: memory,
                qps_interval: result.qps_interval,
                p99_interval: result.p99_interval,
            };
            (result.vector.clone(), point)
        })
        .collect()
}
