//! Validation of user input against Qdrant's rules and against the dataset an experiment uses.
//!
//! Every check returns *all* violations, each naming the dotted field path at fault, so that a
//! request can be fixed in one round trip.

use std::collections::{BTreeMap, BTreeSet};

use secrecy::ExposeSecret;

use crate::dataset::display_name;
use crate::{
    ConnectionSpec, DatasetSpec, EMBEDDED_CONNECTION_URL, ExperimentSpec, IndexConfig, IndexKind, Limits, Quantization,
    SchemaConfig, StorageSpec, UploadConfig, VectorName, VectorSpec, is_bucket_name,
};

/// One thing wrong (or worth a warning) with an input, named by its field path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct Violation {
    /// Dotted path of the field, e.g. `optimizer_config.indexing.embedding.ef_construct`.
    pub field: String,
    /// What is wrong, with the offending value.
    pub message: String,
}

impl Violation {
    /// A violation of `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// The outcome of validating an experiment: errors make it invalid, warnings do not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationReport {
    /// Violations that make the input unusable.
    pub errors: Vec<Violation>,
    /// Settings that are legal but probably not what the user meant.
    pub warnings: Vec<Violation>,
}

impl ValidationReport {
    /// Whether there are no errors.
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }

    pub(crate) fn error(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(Violation::new(field, message));
    }

    pub(crate) fn warning(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Violation::new(field, message));
    }
}

pub(crate) fn check_name(report: &mut ValidationReport, field: &str, name: &str) {
    if let Some(problem) = name_problem(name) {
        report.error(field, problem);
    }
}

/// What is wrong with a human-readable name, if anything: empty or invisible, too long, control
/// characters, or bidirectional overrides that make it read differently from what it is.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() {
        Some("must not be empty".to_owned())
    } else if name.chars().all(is_invisible) {
        Some("must contain a visible character".to_owned())
    } else if name.chars().count() > Limits::NAME_LENGTH {
        Some(format!("must be at most {} characters", Limits::NAME_LENGTH))
    } else if name.chars().any(char::is_control) {
        Some("must not contain control characters".to_owned())
    } else if name.chars().any(is_bidi_control) {
        Some("must not contain bidirectional control characters".to_owned())
    } else {
        None
    }
}

/// White space and the zero-width format characters, which show nothing on their own.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
}

/// Unicode's bidirectional embeddings, overrides and isolates (the "Trojan Source" characters).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Checks a credential: bounded, and free of control characters (NUL, CR and LF would end up in
/// request headers).
fn check_secret(report: &mut ValidationReport, field: &str, secret: &str) {
    if secret.is_empty() {
        report.error(field, "must not be empty; omit it instead");
    } else if secret.chars().count() > Limits::SECRET_LENGTH {
        report.error(field, format!("must be at most {} characters", Limits::SECRET_LENGTH));
    } else if secret.chars().any(char::is_control) {
        report.error(field, "must not contain control characters");
    }
}

/// Checks that an optional number lies in `range`.
pub(crate) fn check_range(
    report: &mut ValidationReport,
    field: &str,
    name: &str,
    value: Option<u32>,
    range: &std::ops::RangeInclusive<u32>,
) {
    if let Some(value) = value
        && !range.contains(&value)
    {
        report.error(field, format!("{name} {value} is outside {}..={}", range.start(), range.end()));
    }
}

fn check_http_url(report: &mut ValidationReport, field: &str, value: &str) {
    if value.chars().count() > Limits::URL_LENGTH {
        return report.error(field, format!("must be at most {} characters", Limits::URL_LENGTH));
    }
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {}
        Ok(url) => report.error(field, format!("`{value}`: scheme `{}` is not http or https", url.scheme())),
        Err(err) => report.error(field, format!("`{value}` is not a URL: {err}")),
    }
}

/// Checks a connection: a name, and an `http(s)` URL of a Qdrant server.
pub fn validate_connection(spec: &ConnectionSpec) -> Vec<Violation> {
    let mut report = ValidationReport::default();
    check_name(&mut report, "name", &spec.name);
    if spec.url == EMBEDDED_CONNECTION_URL {
        report.error("url", "`embedded://` belongs to the built-in connection `embedded`; use that connection");
    } else {
        check_http_url(&mut report, "url", &spec.url);
    }
    if let Some(api_key) = &spec.api_key {
        check_secret(&mut report, "api_key", api_key.expose_secret());
    }
    report.errors
}

/// Checks an object storage: S3 bucket naming rules, a region, an endpoint URL, and keys given in pairs.
pub fn validate_storage(spec: &StorageSpec) -> Vec<Violation> {
    let mut report = ValidationReport::default();
    if let Some(name) = &spec.name {
        check_name(&mut report, "name", name);
    }
    let bucket = &spec.bucket;
    if !is_bucket_name(bucket) {
        report.error(
            "bucket",
            format!(
                "`{bucket}` is not a valid bucket name: 3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit, no `..`"
            ),
        );
    }
    let region = &spec.region;
    if region.trim().is_empty() {
        report.error("region", "must not be empty");
    } else if region.len() > Limits::REGION_LENGTH
        || !region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        report.error(
            "region",
            format!(
                "`{}` is not a region: at most {} lowercase letters, digits and hyphens",
                region.escape_debug(),
                Limits::REGION_LENGTH
            ),
        );
    }
    if let Some(endpoint) = &spec.endpoint_url {
        check_http_url(&mut report, "endpoint_url", endpoint);
    }
    for (field, secret) in [("access_key", &spec.access_key), ("secret_key", &spec.secret_key)] {
        if let Some(secret) = secret {
            check_secret(&mut report, field, secret.expose_secret());
        }
    }
    match (&spec.access_key, &spec.secret_key) {
        (Some(_), None) => report.error("secret_key", "is required when access_key is given"),
        (None, Some(_)) => report.error("access_key", "is required when secret_key is given"),
        _ => {}
    }
    report.errors
}

/// Checks a dataset: a name, at least one vector, and scalar fields that clash with nothing.
pub fn validate_dataset(spec: &DatasetSpec) -> Vec<Violation> {
    let mut report = ValidationReport::default();
    check_name(&mut report, "name", &spec.name);
    let schema = &spec.schema_config;
    if schema.vectors.is_empty() {
        report.error("schema_config.vectors", "a dataset needs at least one vector");
    }
    if schema.vectors.len() > 1 && schema.vectors.keys().any(VectorName::is_unnamed) {
        report.error("schema_config.vector", "an unnamed vector cannot be combined with named vectors");
    }
    let mut columns: BTreeMap<String, String> = BTreeMap::new();
    for (name, vector) in &schema.vectors {
        let field = vector_field("schema_config.vectors", name);
        let column = vector.column_for(name);
        if column.trim().is_empty() {
            report.error(format!("{field}.column"), "must not be empty");
            continue;
        }
        if let Some(other) = columns.insert(column.clone(), field.clone()) {
            report.error(format!("{field}.column"), format!("column `{column}` is already used by {other}"));
        }
    }
    if schema.scalar_fields.len() > Limits::SCALAR_FIELDS {
        report.error("schema_config.scalar_fields", format!("at most {} fields", Limits::SCALAR_FIELDS));
    }
    let mut seen = BTreeSet::new();
    for (index, scalar) in schema.scalar_fields.iter().enumerate() {
        let field = format!("schema_config.scalar_fields[{index}]");
        if let Some(problem) = name_problem(scalar) {
            report.error(field, problem);
        } else if !seen.insert(scalar.as_str()) {
            report.error(field, format!("`{scalar}` is listed twice"));
        } else if let Some(vector_field) = columns.get(scalar) {
            report.error(field, format!("`{scalar}` is the vector column of {vector_field}"));
        }
    }
    report.errors
}

/// The field path of vector `name` under `prefix`; the unnamed vector is `prefix` without its plural `s`.
pub(crate) fn vector_field(prefix: &str, name: &VectorName) -> String {
    if name.is_unnamed() { prefix.trim_end_matches('s').to_owned() } else { format!("{prefix}.{name}") }
}

/// Checks an experiment against the dataset it loads and against the ranges Qdrant accepts.
#[derive(Debug, Clone, Copy)]
pub struct ExperimentValidator<'a> {
    dataset: &'a SchemaConfig,
}

/// Checks the upload settings against Qdrant's request limits.
fn check_upload(report: &mut ValidationReport, upload: &UploadConfig) {
    check_range(report, "upload_config.batch_size", "batch_size", upload.batch_size, &Limits::UPLOAD_BATCH_SIZE);
    check_range(report, "upload_config.parallel", "parallel", upload.parallel, &Limits::UPLOAD_PARALLEL);
    if let Some(sample) = upload.sample
        && !Limits::SAMPLE_FRACTION.contains(&sample.fraction)
    {
        let range = &Limits::SAMPLE_FRACTION;
        report.error(
            "upload_config.sample.fraction",
            format!("fraction {} is outside {}..={}", sample.fraction, range.start(), range.end()),
        );
    }
}

impl<'a> ExperimentValidator<'a> {
    /// A validator for experiments on a dataset with this schema.
    pub fn new(dataset: &'a SchemaConfig) -> Self {
        Self { dataset }
    }

    /// Every error and warning of `spec`.
    pub fn validate(&self, spec: &ExperimentSpec) -> ValidationReport {
        let mut report = ValidationReport::default();
        check_name(&mut report, "name", &spec.name);
        let vectors = self.check_vector_config(&mut report, spec);
        self.check_indexing(&mut report, spec, &vectors);
        check_quantization(&mut report, spec.optimizer_config.quantization.as_ref());
        self.check_search(&mut report, spec, &vectors);
        check_upload(&mut report, &spec.upload_config);
        report
    }

    fn dataset_has(&self) -> String {
        if self.dataset.vectors.is_empty() {
            "the dataset has no vectors".to_owned()
        } else {
            format!("the dataset has {}", self.dataset.vector_names())
        }
    }

    /// Checks `vector_config` and returns the names of the experiment's vectors.
    fn check_vector_config(&self, report: &mut ValidationReport, spec: &ExperimentSpec) -> BTreeSet<VectorName> {
        let Some(vector_config) = &spec.vector_config else {
            return self.dataset.vectors.keys().cloned().collect();
        };
        if vector_config.is_empty() {
            report.error("vector_config", "must name at least one vector; omit it to use every vector of the dataset");
        }
        for (name, wanted) in vector_config {
            let field = vector_field("vector_config", name);
            match self.dataset.vectors.get(name) {
                None => report.error(
                    field,
                    format!(
                        "vector {} ({}, {}) is not in the dataset: {}",
                        display_name(name),
                        wanted.dim,
                        wanted.distance,
                        self.dataset_has()
                    ),
                ),
                Some(actual) => check_same_vector(report, &field, name, wanted, actual),
            }
        }
        vector_config.keys().cloned().collect()
    }

    fn check_indexing(&self, report: &mut ValidationReport, spec: &ExperimentSpec, vectors: &BTreeSet<VectorName>) {
        for (name, index) in &spec.optimizer_config.indexing {
            let field = vector_field("optimizer_config.indexing", name);
            if !self.dataset.vectors.contains_key(name) {
                report.error(
                    &field,
                    format!("vector {} is not in the dataset: {}", display_name(name), self.dataset_has()),
                );
            } else if !vectors.contains(name) {
                report.error(
                    &field,
                    format!("vector {} is not among the experiment's vector_config", display_name(name)),
                );
            }
            check_index(report, &field, index);
        }
    }

    fn check_search(&self, report: &mut ValidationReport, spec: &ExperimentSpec, vectors: &BTreeSet<VectorName>) {
        let search = &spec.search_config;
        if !Limits::K.contains(&search.k) {
            report.error(
                "search_config.k",
                format!("k {} is outside {}..={}", search.k, Limits::K.start(), Limits::K.end()),
            );
        }
        let mut seen = BTreeSet::new();
        for (index, &ef) in search.hnsw_ef.iter().enumerate() {
            let field = format!("search_config.hnsw_ef[{index}]");
            check_range(report, &field, "hnsw_ef", Some(ef), &Limits::HNSW_EF);
            if ef < search.k {
                report.error(&field, format!("hnsw_ef {ef} is smaller than k {}", search.k));
            }
            if !seen.insert(ef) {
                report.warning(&field, format!("hnsw_ef {ef} is listed twice"));
            }
        }
        if let Some(ef_search) = &search.hnsw_ef_search {
            let field = "search_config.hnsw_ef_search";
            if !search.hnsw_ef.is_empty() {
                report.error(field, "give either hnsw_ef (a list) or hnsw_ef_search (a range), not both");
            }
            check_range(report, &format!("{field}.min"), "hnsw_ef", Some(ef_search.min), &Limits::HNSW_EF);
            check_range(report, &format!("{field}.max"), "hnsw_ef", Some(ef_search.max), &Limits::HNSW_EF);
            if ef_search.min > ef_search.max {
                report.error(field, format!("min {} is above max {}", ef_search.min, ef_search.max));
            }
            if ef_search.min < search.k {
                report
                    .error(format!("{field}.min"), format!("hnsw_ef {} is smaller than k {}", ef_search.min, search.k));
            }
            if !(ef_search.target > 0.0 && ef_search.target <= 1.0) {
                report.error(format!("{field}.target"), format!("target {} is outside (0, 1]", ef_search.target));
            }
            if search.exact {
                report.error(field, "has no meaning with exact search");
            }
        }
        if search.exact && !search.hnsw_ef.is_empty() {
            report.warning("search_config.hnsw_ef", "is ignored when exact is true");
        }
        if !Limits::PARALLEL.contains(&search.parallel) {
            report.error(
                "search_config.parallel",
                format!(
                    "parallel {} is outside {}..={}",
                    search.parallel,
                    Limits::PARALLEL.start(),
                    Limits::PARALLEL.end()
                ),
            );
        }
        check_range(
            report,
            "search_config.queries_limit",
            "queries_limit",
            search.queries_limit,
            &Limits::QUERIES_LIMIT,
        );
        check_range(report, "search_config.repetitions", "repetitions", search.repetitions, &Limits::REPETITIONS);
        if search.parallel_sweep.len() > crate::SearchConfig::MAX_PARALLEL_SWEEP {
            report.error(
                "search_config.parallel_sweep",
                format!(
                    "{} client counts; at most {}",
                    search.parallel_sweep.len(),
                    crate::SearchConfig::MAX_PARALLEL_SWEEP
                ),
            );
        }
        for (index, &count) in search.parallel_sweep.iter().enumerate() {
            let field = format!("search_config.parallel_sweep[{index}]");
            check_range(report, &field, "parallel", Some(count), &Limits::PARALLEL);
        }
        if let Some(seconds) = search.min_seconds
            && !(seconds.is_finite() && Limits::SEARCH_SECONDS.contains(&seconds))
        {
            report.error(
                "search_config.min_seconds",
                format!(
                    "min_seconds {seconds} is outside {}..={}",
                    Limits::SEARCH_SECONDS.start(),
                    Limits::SEARCH_SECONDS.end()
                ),
            );
        }
        if let Some(primary) = search.primary_hnsw_ef
            && !search.hnsw_ef.contains(&primary)
        {
            report.error(
                "search_config.primary_hnsw_ef",
                format!("hnsw_ef {primary} is not one of the settings measured ({:?})", search.hnsw_ef),
            );
        }
        if search.quantization_sweep.len() > crate::SearchConfig::MAX_QUANTIZATION_SWEEP {
            report.error(
                "search_config.quantization_sweep",
                format!(
                    "{} sets of quantization parameters; at most {} are measured",
                    search.quantization_sweep.len(),
                    crate::SearchConfig::MAX_QUANTIZATION_SWEEP
                ),
            );
        }
        let choices = search.quantization.iter().map(|choice| ("search_config.quantization".to_owned(), choice)).chain(
            search
                .quantization_sweep
                .iter()
                .enumerate()
                .map(|(index, choice)| (format!("search_config.quantization_sweep[{index}]"), choice)),
        );
        for (field, quantization) in choices {
            if let Some(oversampling) = quantization.oversampling
                && !Limits::OVERSAMPLING.contains(&oversampling)
            {
                report.error(
                    format!("{field}.oversampling"),
                    format!(
                        "oversampling {oversampling} is outside {}..={}",
                        Limits::OVERSAMPLING.start(),
                        Limits::OVERSAMPLING.end()
                    ),
                );
            }
            if spec.optimizer_config.quantization.is_none() {
                report.warning(field, "has no effect without optimizer_config.quantization");
            }
        }
        if let Some(names) = &search.vectors {
            if names.is_empty() {
                report.error("search_config.vectors", "must name at least one vector; omit it to query every vector");
            }
            for (index, name) in names.iter().enumerate() {
                if !vectors.contains(name) {
                    report.error(
                        format!("search_config.vectors[{index}]"),
                        format!(
                            "vector {} is not among the experiment's vectors: {}",
                            display_name(name),
                            experiment_has(vectors)
                        ),
                    );
                }
            }
        }
    }
}

/// The experiment's vectors for messages; they differ from the dataset's when `vector_config` picks a subset.
fn experiment_has(vectors: &BTreeSet<VectorName>) -> String {
    if vectors.is_empty() {
        return "the experiment has no vectors".to_owned();
    }
    let names: Vec<String> = vectors.iter().map(display_name).collect();
    format!("the experiment has {}", names.join(", "))
}

fn check_same_vector(
    report: &mut ValidationReport,
    field: &str,
    name: &VectorName,
    wanted: &VectorSpec,
    actual: &VectorSpec,
) {
    if wanted.dim != actual.dim {
        report.error(
            format!("{field}.dim"),
            format!(
                "dim {} differs from the dataset's vector {}, which has dim {}",
                wanted.dim,
                display_name(name),
                actual.dim
            ),
        );
    }
    if wanted.distance != actual.distance {
        report.error(
            format!("{field}.distance"),
            format!(
                "distance {} differs from the dataset's vector {}, which uses {}",
                wanted.distance,
                display_name(name),
                actual.distance
            ),
        );
    }
}

pub(crate) fn check_index(report: &mut ValidationReport, field: &str, index: &IndexConfig) {
    check_range(report, &format!("{field}.m"), "m", index.m, &Limits::M);
    check_range(report, &format!("{field}.ef_construct"), "ef_construct", index.ef_construct, &Limits::EF_CONSTRUCT);
    check_range(
        report,
        &format!("{field}.full_scan_threshold"),
        "full_scan_threshold",
        index.full_scan_threshold,
        &Limits::FULL_SCAN_THRESHOLD,
    );
    match index.kind {
        IndexKind::Hnsw => {
            if index.m == Some(0) {
                report.warning(format!("{field}.m"), "m 0 disables the HNSW graph: every search scans");
            }
        }
        IndexKind::Plain => {
            if index.m.is_some() || index.ef_construct.is_some() {
                report.warning(field, "m and ef_construct are ignored for a plain index");
            }
        }
    }
}

pub(crate) fn check_quantization(report: &mut ValidationReport, quantization: Option<&Quantization>) {
    if let Some(Quantization::Scalar { quantile: Some(quantile), .. }) = quantization
        && !Limits::QUANTILE.contains(quantile)
    {
        report.error(
            "optimizer_config.quantization.scalar.quantile",
            format!("quantile {quantile} is outside {}..={}", Limits::QUANTILE.start(), Limits::QUANTILE.end()),
        );
    }
}
