//! A study's report: the recommendation with the Qdrant JSON to apply, its fronts drawn.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use qbench_domain::study::{
    BuildConfig, Constraints, Objective, Optimise, QualityMetric, SearchSettingChoice, SpaceSize, StudyPoint,
    StudyReport, TrialPoint, TrialQuality, TrialReport, VectorBuild,
};
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorName, VectorSpec};
use qbench_report::{ReportStudy, render_study};

fn build(m: u32) -> BuildConfig {
    BuildConfig {
        vectors: [("dense".parse::<VectorName>().unwrap(), VectorBuild { m, ef_construct: 128, on_disk: false })]
            .into(),
        quantization: None,
    }
}

fn point(m: u32, hnsw_ef: u32, recall: f64, qps: f64) -> StudyPoint {
    StudyPoint {
        run_id: format!("run-m{m}"),
        vector: "dense".to_owned(),
        point: TrialPoint {
            build: build(m),
            setting: SearchSettingChoice { hnsw_ef: Some(hnsw_ef), exact: false, quantization: None },
            parallel: 1,
            quality: TrialQuality { recall, precision: recall, f1: recall },
            qps,
            p99_seconds: 0.001,
            memory_bytes: Some(u64::from(m) * 1_000_000),
            qps_interval: None,
            p99_interval: None,
        },
    }
}

#[test]
fn a_study_report_shows_the_recommendation_and_its_qdrant_json() {
    let trials = [8, 16]
        .map(|m| TrialReport {
            run_id: format!("run-m{m}"),
            label: build(m).label(),
            build: build(m),
            status: "COMPLETED".to_owned(),
            error: None,
            seconds: 10.0,
            run_seconds: Some(9.0),
            sample: None,
            snapshot: None,
        })
        .to_vec();
    let points = vec![
        point(8, 32, 0.90, 5000.0),
        point(8, 64, 0.96, 3500.0),
        point(16, 32, 0.95, 4000.0),
        point(16, 64, 0.98, 2500.0),
    ];
    let schema =
        SchemaConfig::from_vectors([("dense", VectorSpec::new(Dimension::new(4).unwrap(), Distance::Cosine))]).unwrap();
    let objective = Objective { metric: QualityMetric::Recall, target: 0.95, optimise: Optimise::Qps };
    let report = StudyReport::assemble(
        trials,
        points,
        &objective,
        &Constraints::default(),
        &schema,
        SpaceSize { builds: 2, measurements: 4 },
        20.0,
    )
    .unwrap();
    let html = render_study(&ReportStudy { id: "s1".into(), name: "tune".into(), report }, Utc::now()).unwrap();

    assert!(html.contains("Recommended"), "a point meets recall 0.95");
    let collection = html.split("<pre class=\"qdrant-collection\">").nth(1).unwrap();
    assert!(collection.contains("&quot;m&quot;: 16") || collection.contains("&quot;m&quot;: 8"), "{collection}");
    assert!(html.split("<pre class=\"qdrant-search\">").nth(1).unwrap().contains("hnsw_ef"));
    let scatter = html.split("data-chart=\"recall-qps\"").nth(1).unwrap().split("</figure>").next().unwrap();
    assert_eq!(scatter.matches("<circle").count(), 4);
    assert!(html.contains("data-chart=\"recall-memory\""));
    assert!(!html.contains("<script") && !html.contains("src=\"http"));
}
