//! The results table `qbench bench` prints.

use serde_json::Value;

fn number(value: &Value, digits: usize) -> String {
    value.as_f64().map_or_else(|| "-".to_owned(), |number| format!("{number:.digits$}"))
}

fn millis(value: &Value) -> String {
    value.as_f64().map_or_else(|| "-".to_owned(), |seconds| format!("{:.3}", seconds * 1000.0))
}

/// One line per (vector, search setting), then the upload and index times.
pub(crate) fn render(metrics: &Value) -> String {
    let mut out = format!(
        "{:<18} {:<14} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10}\n",
        "vector", "setting", "recall", "prec.", "f1", "p50 ms", "p95 ms", "p99 ms", "qps"
    );
    for result in metrics["results"].as_array().into_iter().flatten() {
        let latency = &result["latency"];
        out.push_str(&format!(
            "{:<18} {:<14} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10}\n",
            result["vector"].as_str().unwrap_or("-"),
            result["setting"].as_str().unwrap_or("-"),
            number(&result["recall"], 4),
            number(&result["precision"], 4),
            number(&result["f1"], 4),
            millis(&latency["p50"]),
            millis(&latency["p95"]),
            millis(&latency["p99"]),
            number(&result["qps"], 1),
        ));
    }
    out.push_str(&format!(
        "points {} · upload {} s · index {} s · total {} s · {} {} · {} cores\n",
        metrics["points"],
        number(&metrics["upload_seconds"], 2),
        number(&metrics["index_seconds"], 2),
        number(&metrics["total_seconds"], 2),
        metrics["provenance"]["engine"].as_str().unwrap_or("-"),
        metrics["provenance"]["engine_version"].as_str().unwrap_or("-"),
        metrics["provenance"]["cores"],
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_per_setting_with_latencies_in_milliseconds() {
        let metrics = serde_json::json!({
            "results": [{"vector": "text", "setting": "hnsw_ef=64", "recall": 0.98765, "precision": 0.98765, "f1": 0.98765,
                         "latency": {"p50": 0.0004, "p95": 0.0007, "p99": 0.0009}, "qps": 2500.04}],
            "points": 1000, "upload_seconds": 1.5, "index_seconds": 2.25, "total_seconds": 5.0,
            "provenance": {"engine": "qdrant-edge", "engine_version": "0.7.2", "cores": 2}
        });
        let table = render(&metrics);
        let row = table.lines().nth(1).unwrap();
        assert!(row.starts_with("text") && row.contains("hnsw_ef=64") && row.contains("0.9877"), "{row}");
        assert!(row.contains("0.400") && row.contains("0.900") && row.contains("2500.0"), "{row}");
        assert!(table.contains("upload 1.50 s · index 2.25 s"), "{table}");
    }
}
