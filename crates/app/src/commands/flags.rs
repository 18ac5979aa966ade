//! The command-line flags behind the API fields a validation names, so that a CLI user is told
//! `--hnsw-ef`, not `search_config.hnsw_ef[0]`.

use qbench_service::ServiceError;

use crate::commands::CommandError;

/// `(field pattern, flag)`: a pattern's dotted segments match a field's, `*` any one segment,
/// indexes (`[0]`) ignored; a pattern matches a field it is a prefix of.
pub(crate) type FlagTable = &'static [(&'static str, &'static str)];

/// The fields `qbench bench` sets from its flags.
pub(crate) const BENCH: FlagTable = &[
    ("search_config.hnsw_ef", "--hnsw-ef"),
    ("search_config.primary_hnsw_ef", "--primary-hnsw-ef"),
    ("search_config.k", "--k"),
    ("search_config.parallel", "--parallel"),
    ("search_config.queries_limit", "--queries"),
    ("search_config.quantization.oversampling", "--oversampling"),
    ("search_config.quantization", "--rescore"),
    ("search_config.min_seconds", "--min-seconds"),
    ("search_config.repetitions", "--repetitions"),
    ("search_config.vectors", "--vectors"),
    ("optimizer_config.indexing.*.m", "--m"),
    ("optimizer_config.indexing.*.ef_construct", "--ef-construct"),
    ("optimizer_config.indexing", "--vectors"),
    ("optimizer_config.quantization", "--int8"),
    ("upload_config.batch_size", "--batch-size"),
    ("upload_config.parallel", "--upload-parallel"),
    ("vector_config", "--vectors"),
    ("dataset", "--dataset"),
];

/// The fields `qbench tune` sets from its flags.
pub(crate) const TUNE: FlagTable = &[
    ("objective.target", "--target-recall"),
    ("objective.optimise", "--optimise"),
    ("constraints.max_p99_ms", "--max-p99-ms"),
    ("constraints.min_qps", "--min-qps"),
    ("space.vectors.*.m", "--m"),
    ("space.vectors.*.ef_construct", "--ef-construct"),
    ("space.vectors", "--vectors"),
    ("space.quantization", "--quantization"),
    ("space.search.hnsw_ef", "--hnsw-ef"),
    ("space.parallel", "--parallel"),
    ("space", "--m, --ef-construct, --hnsw-ef, --quantization and --parallel"),
    ("repetitions", "--repetitions"),
    ("vectors", "--vectors"),
    ("k", "--k"),
];

/// `error` for a CLI user: each violation under the flag that set its field (the field itself
/// when no flag did), on one line.
pub(crate) fn in_flags(error: ServiceError, table: FlagTable) -> CommandError {
    let ServiceError::Invalid(violations) = error else { return CommandError::new(error) };
    let parts: Vec<String> = violations
        .iter()
        .map(|violation| {
            format!("{}: {}", flag_of(&violation.field, table).unwrap_or(&violation.field), violation.message)
        })
        .collect();
    CommandError::new(parts.join("; "))
}

/// The flag that sets `field`, when `table` knows one.
fn flag_of(field: &str, table: FlagTable) -> Option<&'static str> {
    let segments: Vec<&str> = field.split('.').map(|segment| segment.split('[').next().unwrap_or(segment)).collect();
    table.iter().find_map(|(pattern, flag)| {
        let pattern: Vec<&str> = pattern.split('.').collect();
        let matches = pattern.len() <= segments.len()
            && pattern.iter().zip(&segments).all(|(expected, segment)| *expected == "*" || expected == segment);
        matches.then_some(*flag)
    })
}

#[cfg(test)]
mod tests {
    use qbench_domain::Violation;

    use super::*;

    fn message(fields: &[&str], table: FlagTable) -> String {
        let violations = fields.iter().map(|field| Violation::new(*field, "wrong")).collect();
        in_flags(ServiceError::Invalid(violations), table).0
    }

    #[test]
    fn cli_errors_name_flags_not_api_fields() {
        assert_eq!(message(&["search_config.hnsw_ef[0]"], BENCH), "--hnsw-ef: wrong");
        assert_eq!(message(&["optimizer_config.indexing.text.m"], BENCH), "--m: wrong");
        assert_eq!(
            message(&["optimizer_config.indexing.text.ef_construct", "search_config.k"], BENCH),
            "--ef-construct: wrong; --k: wrong"
        );
        assert_eq!(
            message(&["space.vectors.text.m[2]", "objective.target"], TUNE),
            "--m: wrong; --target-recall: wrong"
        );
        assert_eq!(message(&["space.search.hnsw_ef"], TUNE), "--hnsw-ef: wrong");
    }

    #[test]
    fn a_field_no_flag_sets_keeps_its_name_and_other_errors_pass_through() {
        assert_eq!(message(&["name"], BENCH), "name: wrong");
        assert_eq!(message(&["search_config.hnsw_ef_search"], BENCH), "search_config.hnsw_ef_search: wrong");
        assert_eq!(in_flags(ServiceError::Conflict("taken".to_owned()), BENCH).0, "taken");
    }
}
