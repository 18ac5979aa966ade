//! A report of runs, read as a reader (and a browser) would: one chart point per measured setting,
//! nothing fetched from the network, differences marked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use qbench_domain::report::{Headline, HeadlineRule, LatencyFigures, RunReport, SettingReport};
use qbench_domain::{ConnectionId, DatasetId, ExperimentSpec};
use qbench_report::{ReportRun, render_runs};

fn setting(vector: &str, hnsw_ef: u32, recall: f64, qps: f64, parallel: u32) -> SettingReport {
    SettingReport {
        vector: vector.to_owned(),
        setting: format!("hnsw_ef={hnsw_ef}"),
        hnsw_ef: Some(hnsw_ef),
        k: 10,
        parallel,
        queries: 100,
        precision: recall,
        recall,
        f1: recall,
        latency: LatencyFigures {
            p50: 0.0004,
            p95: 0.0007,
            p99: 0.0009 + f64::from(hnsw_ef) * 1e-6,
            max: 0.002,
            mean: 0.0004,
        },
        qps,
        search_seconds: 1.0,
        recall_histogram: vec![0, 0, 0, 0, 0, 0, 0, 0, 5, 20, 75],
        ..SettingReport::default()
    }
}

fn run(id: &str, batch_size: u32, results: Vec<SettingReport>) -> ReportRun {
    let mut settings = ExperimentSpec::new(id, DatasetId::new(), ConnectionId::new());
    settings.upload_config.batch_size = Some(batch_size);
    let headline = Headline {
        vector: results[0].vector.clone(),
        setting: results[0].setting.clone(),
        parallel: 1,
        rule: HeadlineRule::BestF1,
    };
    let report = RunReport {
        points: 1000,
        upload_seconds: 1.5,
        index_seconds: 4.0,
        total_seconds: 9.0,
        results,
        headline: Some(headline),
        warnings: vec!["ground truth <computed> & cached".to_owned()],
        ..RunReport::default()
    };
    ReportRun {
        id: id.to_owned(),
        label: format!("experiment {id}"),
        created_at: None,
        settings: Some(settings),
        report,
    }
}

/// The markup of the figure `chart`.
fn figure<'a>(html: &'a str, chart: &str) -> &'a str {
    let start = html.find(&format!("data-chart=\"{chart}\"")).unwrap_or_else(|| panic!("no {chart} chart"));
    let end = html[start..].find("</figure>").unwrap() + start;
    &html[start..end]
}

#[test]
fn a_run_report_draws_one_point_per_measured_setting_and_fetches_nothing() {
    let results = vec![
        setting("text", 16, 0.80, 5000.0, 1),
        setting("text", 64, 0.95, 3000.0, 1),
        setting("text", 128, 0.97, 3500.0, 1),
        setting("image", 64, 0.90, 2000.0, 1),
        setting("text", 64, 0.95, 5200.0, 4),
    ];
    let html =
        render_runs("A run", &[run("r1", 256, results)], Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap()).unwrap();

    let scatter = figure(&html, "recall-qps");
    assert!(scatter.contains("data-points=\"5\""));
    assert_eq!(scatter.matches("<circle").count(), 5, "one circle per setting");
    // The front is hnsw_ef=128 (0.97) and the 4-client hnsw_ef=64 (0.95 at 5200 QPS); the others
    // are beaten on both figures by one of them, and faded.
    assert_eq!(scatter.matches("opacity=\"0.3\"").count(), 3, "the dominated settings are faded");
    assert_eq!(figure(&html, "recall-p99").matches("<circle").count(), 5);
    // The 4-client measurement of hnsw_ef=64 gives a clients line of two points.
    assert_eq!(figure(&html, "qps-clients").matches("<circle").count(), 2);
    assert!(figure(&html, "recall-distribution").contains("<rect"));
    assert!(figure(&html, "timeline").contains("index"));

    for external in ["src=\"http", "href=\"http", "<script", "url(http", "@import"] {
        assert!(!html.contains(external), "the report must not load {external}");
    }
    assert!(html.contains("ground truth &lt;computed&gt; &amp; cached"), "text is escaped");
    assert!(html.contains("0.412") || html.contains("0.400 ms"), "latency reads in ms");
}

#[test]
fn a_report_of_two_runs_marks_the_settings_that_differ() {
    let a = run("a", 64, vec![setting("text", 64, 0.95, 3000.0, 1)]);
    let mut b = run("b", 256, vec![setting("text", 64, 0.96, 3100.0, 1)]);
    b.settings.as_mut().unwrap().dataset_id = a.settings.as_ref().unwrap().dataset_id;
    b.settings.as_mut().unwrap().connection_id = a.settings.as_ref().unwrap().connection_id;
    let html = render_runs("Two runs", &[a, b], Utc::now()).unwrap();

    assert!(html.contains("Settings (1 differ)"), "{html}");
    let differing = html.split("<tr class=\"diff\">").nth(1).unwrap();
    assert!(
        differing.starts_with("<td><code>upload_config.batch_size</code></td><td>64</td><td>256</td>"),
        "{differing}"
    );
    assert_eq!(figure(&html, "recall-qps").matches("<circle").count(), 2);
    assert!(
        html.contains("1: experiment a · text") && html.contains("2: experiment b · text"),
        "the legend names run and vector"
    );
}

#[test]
fn a_report_of_nothing_is_refused() {
    assert!(render_runs("none", &[], Utc::now()).is_err());
}
