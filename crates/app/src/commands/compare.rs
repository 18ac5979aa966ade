//! `qbench compare BASELINE CANDIDATE`: two runs aligned setting by setting, with the differences
//! and whether each exceeds the measured noise, and gates that fail the command (exit 1) — a search
//! quality check a team can put in its own CI.

use std::fmt::Write as _;

use qbench_domain::report::{ComparedSetting, Gates, RunReport, Significance, compare as align, failed_gates};

use qbench_report::{ReportRun, render_runs};

use crate::cli::CompareArgs;
use crate::commands::CommandError;

/// Compares the two runs `args` name and prints the table; fails when a gate does.
pub async fn run(args: CompareArgs) -> Result<(), CommandError> {
    let baseline = load(&args, &args.baseline, "BASELINE").await?;
    let candidate = load(&args, &args.candidate, "CANDIDATE").await?;
    let gates = Gates {
        max_recall_drop: args.max_recall_drop,
        max_p99_increase: args
            .max_p99_increase
            .as_deref()
            .map(|text| fraction(text, "--max-p99-increase"))
            .transpose()?,
        min_qps_ratio: args.min_qps_ratio,
    };
    let rows = align(&baseline, &candidate);
    print!("{}", render(&rows));
    if let Some(path) = &args.html {
        let side = |id: &str, label: &str, report: RunReport| ReportRun {
            id: id.to_owned(),
            label: format!("{label} ({id})"),
            created_at: None,
            settings: None,
            report,
        };
        let runs = [side(&args.baseline, "baseline", baseline), side(&args.candidate, "candidate", candidate)];
        let page = render_runs("Baseline against candidate", &runs, chrono::Utc::now()).map_err(CommandError::new)?;
        std::fs::write(path, page).map_err(|err| CommandError::new(format!("--html {}: {err}", path.display())))?;
        println!("report: {}", path.display());
    }
    let failures = failed_gates(&rows, &gates);
    for failure in &failures {
        println!("FAIL {failure}");
    }
    if failures.is_empty() { Ok(()) } else { Err(CommandError::new(format!("{} gate(s) failed", failures.len()))) }
}

/// `10%` or `0.1` as a fraction.
fn fraction(text: &str, flag: &str) -> Result<f64, CommandError> {
    let parsed = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map(|value| value / 100.0),
        None => text.trim().parse::<f64>(),
    };
    parsed.ok().filter(|value| value.is_finite() && *value >= 0.0).ok_or_else(|| {
        CommandError::new(format!("{flag}: `{text}` is not a percentage like 10% or a fraction like 0.1"))
    })
}

/// A run's report: a JSON file (`qbench bench --json`, a run's `result.json`), or a run id read
/// from `--server`.
async fn load(args: &CompareArgs, what: &str, name: &str) -> Result<RunReport, CommandError> {
    let text = match uuid::Uuid::parse_str(what) {
        Ok(id) => fetch(args, id).await.map_err(|err| CommandError::new(format!("{name} {what}: {err}")))?,
        Err(_) => std::fs::read_to_string(what).map_err(|err| CommandError::new(format!("{name} {what}: {err}")))?,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| CommandError::new(format!("{name} {what}: not JSON: {err}")))?;
    // A run as the API answers it carries its report under `metrics`.
    let report = if value.get("results").is_some() { value } else { value["metrics"].clone() };
    serde_json::from_value(report)
        .map_err(|err| CommandError::new(format!("{name} {what}: not the report of a completed run: {err}")))
}

async fn fetch(args: &CompareArgs, id: uuid::Uuid) -> Result<String, String> {
    let url = format!("{}/api/v1/runs/{id}", args.server.trim_end_matches('/'));
    let mut request = reqwest::Client::new().get(&url);
    if let Some(key) = &args.api_key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.map_err(|err| format!("{url}: {err}"))?;
    let status = response.status();
    let body = response.text().await.map_err(|err| format!("{url}: {err}"))?;
    if status.is_success() { Ok(body) } else { Err(format!("{url} answered {status}")) }
}

fn mark(significance: Significance) -> &'static str {
    match significance {
        Significance::Beyond => "*",
        Significance::Within => "",
        Significance::Unknown => "?",
    }
}

fn pair(baseline: Option<f64>, candidate: Option<f64>, digits: usize) -> String {
    let show = |value: Option<f64>| value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"));
    format!("{} → {}", show(baseline), show(candidate))
}

/// One line per aligned setting: recall (with its change), QPS and p99 (with their ratio; `*`
/// beyond the noise, `?` noise unknown).
fn render(rows: &[ComparedSetting]) -> String {
    let mut out = format!(
        "{:<14} {:<14} {:>3} {:>22} {:>9} {:>26} {:>8} {:>24} {:>8}\n",
        "vector", "setting", "×", "recall", "Δ", "qps", "ratio", "p99 ms", "ratio"
    );
    for row in rows {
        let (base, cand) = (row.baseline, row.candidate);
        let _ = writeln!(
            out,
            "{:<14} {:<14} {:>3} {:>22} {:>9} {:>26} {:>8} {:>24} {:>8}",
            row.vector,
            row.setting,
            row.parallel,
            pair(base.map(|f| f.recall), cand.map(|f| f.recall), 4),
            row.recall_delta().map_or_else(|| "-".to_owned(), |d| format!("{d:+.4}")),
            pair(base.map(|f| f.qps), cand.map(|f| f.qps), 1),
            row.qps_ratio().map_or_else(|| "-".to_owned(), |r| format!("{r:.3}{}", mark(row.qps_significance()))),
            pair(base.map(|f| f.p99 * 1e3), cand.map(|f| f.p99 * 1e3), 3),
            row.p99_ratio().map_or_else(|| "-".to_owned(), |r| format!("{r:.3}{}", mark(row.p99_significance()))),
        );
    }
    out.push_str("* beyond the measured noise (95 % intervals apart) · ? noise unknown (one pass)\n");
    out
}
