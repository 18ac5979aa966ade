//! Datasets: Parquet data with one or more named dense vectors.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::storage::is_bucket_name;
use crate::{DatasetId, DomainError, Limits, StorageId, VectorName, VectorSpec};

/// Where a dataset's files are: `s3://bucket/key`, `https://…`, `file://…` or a relative path.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SourceUri(String);

impl SourceUri {
    /// The URI as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The scheme (`s3`, `https`, `http`, `file`), or `None` for a relative path.
    pub fn scheme(&self) -> Option<&str> {
        self.0.split_once("://").map(|(scheme, _)| scheme)
    }
}

impl FromStr for SourceUri {
    type Err = DomainError;

    fn from_str(uri: &str) -> Result<Self, Self::Err> {
        let field = "source_uri";
        if uri.trim().is_empty() {
            return Err(DomainError::invalid(field, "must not be empty"));
        }
        if uri.chars().any(char::is_control) {
            return Err(DomainError::invalid(field, "contains control characters"));
        }
        if uri.chars().count() > Limits::URL_LENGTH {
            return Err(DomainError::invalid(field, format!("must be at most {} characters", Limits::URL_LENGTH)));
        }
        match uri.split_once("://") {
            Some(("s3", rest)) => {
                let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() || key.is_empty() {
                    return Err(DomainError::invalid(field, format!("`{uri}` must have the form s3://bucket/key")));
                }
                if !is_bucket_name(bucket) {
                    return Err(DomainError::invalid(field, format!("`{bucket}` is not a valid bucket name")));
                }
            }
            Some(("http" | "https", rest))
                if !rest.is_empty() && !url::Url::parse(uri).is_ok_and(|url| url.host().is_some()) =>
            {
                return Err(DomainError::invalid(field, format!("`{uri}` is not a URL with a host")));
            }
            Some(("http" | "https", rest)) if !rest.is_empty() => {}
            Some(("file", rest)) if !rest.is_empty() => {}
            Some((scheme, _)) => {
                return Err(DomainError::invalid(
                    field,
                    format!("`{uri}`: unsupported scheme `{scheme}`; use s3://, https://, file:// or a relative path"),
                ));
            }
            None if uri.starts_with('/') => {
                return Err(DomainError::invalid(
                    field,
                    format!("`{uri}` is an absolute path; write it as file://{uri}"),
                ));
            }
            None => {}
        }
        Ok(Self(uri.to_owned()))
    }
}

impl TryFrom<String> for SourceUri {
    type Error = DomainError;

    fn try_from(uri: String) -> Result<Self, Self::Error> {
        uri.parse()
    }
}

impl From<SourceUri> for String {
    fn from(uri: SourceUri) -> Self {
        uri.0
    }
}

impl fmt::Display for SourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The shape of a dataset: its named vectors and the scalar columns kept as payload.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SchemaConfig {
    /// Columns copied into each point's payload.
    #[serde(default)]
    pub scalar_fields: Vec<String>,
    /// Named vectors, by name.
    pub vectors: BTreeMap<VectorName, VectorSpec>,
}

impl SchemaConfig {
    /// A schema with the given vectors and no scalar fields.
    pub fn from_vectors<N, I>(vectors: I) -> Result<Self, DomainError>
    where
        N: AsRef<str>,
        I: IntoIterator<Item = (N, VectorSpec)>,
    {
        let vectors = vectors
            .into_iter()
            .map(|(name, spec)| Ok((name.as_ref().parse()?, spec)))
            .collect::<Result<_, DomainError>>()?;
        Ok(Self { scalar_fields: Vec::new(), vectors })
    }

    /// The names of the vectors, comma-separated, for messages.
    pub fn vector_names(&self) -> String {
        let names: Vec<String> = self
            .vectors
            .iter()
            .map(|(name, spec)| format!("{} ({}, {})", display_name(name), spec.dim, spec.distance))
            .collect();
        names.join(", ")
    }
}

/// A vector's name for messages: the unnamed vector shows as `(unnamed)`.
pub(crate) fn display_name(name: &VectorName) -> String {
    if name.is_unnamed() { "(unnamed)".to_owned() } else { format!("`{name}`") }
}

/// What a user says about a dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetSpec {
    /// Human-chosen name.
    pub name: String,
    /// Where the files are.
    pub source_uri: SourceUri,
    /// Credentials to read an `s3://` source; `None` picks the storage whose bucket matches.
    pub storage_id: Option<StorageId>,
    /// The vectors and payload columns.
    pub schema_config: SchemaConfig,
}

/// A registered dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Identifier.
    pub id: DatasetId,
    /// The user's description of it.
    pub spec: DatasetSpec,
    /// The user who registered it; only they and admins see it.
    pub owner: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// What its files' footers said when last inspected.
    pub inspection: Option<Inspection>,
}

/// One file of an inspected dataset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InspectedFile {
    /// Location (URI).
    pub location: String,
    /// `train`, `test` or `neighbors`.
    pub role: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Rows.
    pub rows: u64,
    /// Row groups.
    pub row_groups: u64,
}

/// One column of an inspected dataset.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InspectedColumn {
    /// Name.
    pub name: String,
    /// Arrow type, as text.
    pub data_type: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
}

/// What a dataset's Parquet footers said: files, rows, bytes, columns and types.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inspection {
    /// `singlefile`, `directory` or `glob`.
    pub layout: String,
    /// Every file.
    pub files: Vec<InspectedFile>,
    /// The columns of the train files.
    pub columns: Vec<InspectedColumn>,
    /// Rows of the train files.
    pub train_rows: u64,
    /// Rows of the test file.
    pub test_rows: u64,
    /// Bytes of all files.
    pub bytes: u64,
    /// When it was inspected.
    pub inspected_at: DateTime<Utc>,
}

impl Dataset {
    /// A new dataset of `owner`, registered at `now`.
    pub fn new(spec: DatasetSpec, owner: impl Into<String>, now: DateTime<Utc>) -> Self {
        Self { id: DatasetId::new(), spec, owner: owner.into(), created_at: now, updated_at: now, inspection: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_uris_accept_the_documented_forms() {
        for uri in [
            "s3://datasets/wiki-mm.parquet",
            "https://example.org/data/train.parquet",
            "file:///data/train.parquet",
            "datasets/train.parquet",
        ] {
            assert!(uri.parse::<SourceUri>().is_ok(), "{uri}");
        }
    }

    #[test]
    fn source_uris_refuse_other_forms_naming_the_value() {
        for (uri, needle) in [
            ("", "empty"),
            ("s3://bucket-only", "s3://bucket/key"),
            ("gs://bucket/key", "unsupported scheme `gs`"),
            ("/etc/passwd", "file:///etc/passwd"),
        ] {
            let err = uri.parse::<SourceUri>().unwrap_err().to_string();
            assert!(err.contains(needle), "{uri}: {err}");
        }
    }
}
