//! Wire types: what the REST API reads and writes, with OpenAPI schemas and examples.
//!
//! Requests convert into domain types with `TryFrom`, returning *every* violation; responses are
//! built from domain types and never carry a secret in clear.

pub mod backfill;
pub mod bulk;
pub mod cluster;
pub mod compare;
pub mod connection;
pub mod dataset;
pub mod experiment;
pub mod job;
pub mod qdrant_json;
pub mod report;
pub mod report_job;
pub mod run;
pub mod snapshot;
pub mod storage;
pub mod study;
pub mod vector;

use qbench_domain::{Secret, Violation, mask_secret};
use secrecy::ExposeSecret;

/// The domain's [`qbench_domain::Limits`] as single numbers, for the schemas' `range` and `length`
/// attributes (which take a literal or a path, not an expression), so that the document states
/// exactly the ranges the server accepts.
pub(crate) mod bounds {
    use qbench_domain::Limits;

    pub(crate) const DIMENSION_MIN: u32 = *Limits::DIMENSION.start();
    pub(crate) const DIMENSION_MAX: u32 = *Limits::DIMENSION.end();
    pub(crate) const K_MIN: u32 = *Limits::K.start();
    pub(crate) const K_MAX: u32 = *Limits::K.end();
    pub(crate) const M_MIN: u32 = *Limits::M.start();
    pub(crate) const M_MAX: u32 = *Limits::M.end();
    pub(crate) const EF_CONSTRUCT_MIN: u32 = *Limits::EF_CONSTRUCT.start();
    pub(crate) const EF_CONSTRUCT_MAX: u32 = *Limits::EF_CONSTRUCT.end();
    pub(crate) const HNSW_EF_MIN: u32 = *Limits::HNSW_EF.start();
    pub(crate) const HNSW_EF_MAX: u32 = *Limits::HNSW_EF.end();
    pub(crate) const FULL_SCAN_THRESHOLD_MIN: u32 = *Limits::FULL_SCAN_THRESHOLD.start();
    pub(crate) const FULL_SCAN_THRESHOLD_MAX: u32 = *Limits::FULL_SCAN_THRESHOLD.end();
    pub(crate) const PARALLEL_MIN: u32 = *Limits::PARALLEL.start();
    pub(crate) const PARALLEL_MAX: u32 = *Limits::PARALLEL.end();
    pub(crate) const QUERIES_LIMIT_MIN: u32 = *Limits::QUERIES_LIMIT.start();
    pub(crate) const QUERIES_LIMIT_MAX: u32 = *Limits::QUERIES_LIMIT.end();
    pub(crate) const SEARCH_SECONDS_MIN: f64 = *Limits::SEARCH_SECONDS.start();
    pub(crate) const SEARCH_SECONDS_MAX: f64 = *Limits::SEARCH_SECONDS.end();
    pub(crate) const REPETITIONS_MIN: u32 = *Limits::REPETITIONS.start();
    pub(crate) const REPETITIONS_MAX: u32 = *Limits::REPETITIONS.end();
    pub(crate) const UPLOAD_BATCH_SIZE_MIN: u32 = *Limits::UPLOAD_BATCH_SIZE.start();
    pub(crate) const UPLOAD_BATCH_SIZE_MAX: u32 = *Limits::UPLOAD_BATCH_SIZE.end();
    pub(crate) const UPLOAD_PARALLEL_MIN: u32 = *Limits::UPLOAD_PARALLEL.start();
    pub(crate) const UPLOAD_PARALLEL_MAX: u32 = *Limits::UPLOAD_PARALLEL.end();
    pub(crate) const SAMPLE_FRACTION_MIN: f64 = *Limits::SAMPLE_FRACTION.start();
    pub(crate) const SAMPLE_FRACTION_MAX: f64 = *Limits::SAMPLE_FRACTION.end();
    pub(crate) const QUANTILE_MIN: f64 = *Limits::QUANTILE.start();
    pub(crate) const QUANTILE_MAX: f64 = *Limits::QUANTILE.end();
    pub(crate) const OVERSAMPLING_MIN: f64 = *Limits::OVERSAMPLING.start();
    pub(crate) const OVERSAMPLING_MAX: f64 = *Limits::OVERSAMPLING.end();
    pub(crate) const NAME_LENGTH: usize = Limits::NAME_LENGTH;
    pub(crate) const URL_LENGTH: usize = Limits::URL_LENGTH;
    pub(crate) const SECRET_LENGTH: usize = Limits::SECRET_LENGTH;
    pub(crate) const REGION_LENGTH: usize = Limits::REGION_LENGTH;
    pub(crate) const SCALAR_FIELDS: usize = Limits::SCALAR_FIELDS;
    /// S3 bucket names as `is_bucket_name` accepts them: lowercase letters, digits, dots and
    /// hyphens, starting and ending with a letter or digit, never two dots in a row (with the
    /// length, 3 to 63, given separately).
    pub(crate) const BUCKET_PATTERN: &str = r"^[a-z0-9]((\.?[a-z0-9-])*\.?[a-z0-9])?$";
    /// Regions: lowercase letters, digits and hyphens.
    pub(crate) const REGION_PATTERN: &str = "^[a-z0-9-]+$";
}

/// A secret field after a merge: a client that sends back the masked value it was shown
/// (`"****3y"`) keeps the stored secret instead of replacing it with the mask.
pub(crate) fn unmask(sent: Option<String>, stored: Option<&Secret>) -> Option<String> {
    match (sent, stored) {
        (Some(sent), Some(stored)) if sent == mask_secret(stored) => Some(stored.expose_secret().to_owned()),
        (sent, _) => sent,
    }
}

/// Collects violations while converting a request; `finish` turns them into a result.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// Records the error of `result` under `field`, returning the value when there is one.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: impl Into<String>, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                let message = match err.to_string().split_once(": ") {
                    // Domain errors render as `field: message`; the caller's path is more precise.
                    Some((_, message)) => message.to_owned(),
                    None => err.to_string(),
                };
                self.0.push(Violation::new(field, message));
                None
            }
        }
    }

    /// Records a violation.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation::new(field, message));
    }

    /// `Ok(value)` when nothing was recorded, else every violation.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Violation>> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(self.0),
        }
    }
}
