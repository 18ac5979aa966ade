//! The error contract of storage adapters.

/// What went wrong reading or writing object storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// Nothing at that location.
    #[error("{location}: not found")]
    NotFound {
        /// The location asked for.
        location: String,
    },
    /// The location is refused by configuration (a local path outside the data roots) or by the
    /// store (access denied).
    #[error("{location}: refused: {reason}")]
    Refused {
        /// The location.
        location: String,
        /// Why.
        reason: String,
    },
    /// The store cannot be reached; retrying may help.
    #[error("{location}: unreachable: {reason}")]
    Unreachable {
        /// The location.
        location: String,
        /// Why.
        reason: String,
    },
    /// The data is not what the dataset's schema says: names the file and, when known, the column
    /// and row group at fault.
    #[error("{file}{}{}: {reason}", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default(), row_group.map(|g| format!(", row group {g}")).unwrap_or_default())]
    Format {
        /// The file.
        file: String,
        /// The column, when one is at fault.
        column: Option<String>,
        /// The row group, when one is at fault.
        row_group: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// Anything else.
    #[error("storage error: {0}")]
    Internal(String),
}

impl StorageError {
    /// Whether retrying the same call may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_errors_name_file_column_and_row_group() {
        let error = StorageError::Format {
            file: "s3://datasets/train-00.parquet".to_owned(),
            column: Some("text_embedding".to_owned()),
            row_group: Some(3),
            reason: "row 17 has 767 values, the schema says dim 768".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "s3://datasets/train-00.parquet, column `text_embedding`, row group 3: row 17 has 767 values, the schema says dim 768"
        );
    }
}
