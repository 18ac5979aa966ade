//! Names derived from content: the dataset's fingerprint, and the key its ground truth is cached
//! under.

use std::fmt::Write as _;

use qbench_domain::{PointSample, VectorName, VectorSpec};
use qbench_storage::DatasetInspection;
use uuid::Uuid;

use crate::execution::queries::QuerySet;

/// A fingerprint of the dataset's files (location, size, rows and the store's version of each:
/// ETag or modification time), so results on different data are never compared by mistake and a
/// rewritten file is never mistaken for the old one.
pub(crate) fn dataset(inspection: &DatasetInspection) -> String {
    let mut text = String::new();
    for file in &inspection.files {
        let version = file.version.as_deref().unwrap_or("-");
        let _ = writeln!(text, "{}|{}|{}|{version}", file.location, file.bytes, file.rows);
    }
    Uuid::new_v5(&Uuid::NAMESPACE_URL, text.as_bytes()).to_string()
}

/// The key of one vector's ground truth: the same data, point sample, vector (column, dim,
/// distance), depth and queries give the same key, anything else another.
pub(crate) fn truth_key(
    inspection: &DatasetInspection,
    vector: &VectorName,
    spec: &VectorSpec,
    k: usize,
    queries: &QuerySet,
    sample: Option<&PointSample>,
) -> String {
    let column = spec.column_for(vector);
    let mut text = format!(
        "{}\n{vector}|{column}|{}|{}|k={k}|{}\n",
        dataset(inspection),
        spec.dim,
        spec.distance,
        queries.origin.as_str()
    );
    if let Some(sample) = sample {
        let _ = writeln!(text, "sample|{}|{}", sample.fraction, sample.seed);
    }
    for id in &queries.ids {
        let _ = writeln!(text, "{id}");
    }
    format!("truth-{}", Uuid::new_v5(&Uuid::NAMESPACE_OID, text.as_bytes()))
}
