//! Datasets on the wire, with the vector shorthands.

use std::collections::BTreeMap;

use apistos::ApiComponent;
use chrono::{DateTime, Utc};
use qbench_domain::{Dataset, DatasetSpec, Inspection, SchemaConfig, SourceUri, StorageId, VectorName, Violation};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dto::vector::{VectorInput, VectorParams, vectors_from_domain, vectors_to_domain};
use crate::dto::{Violations, bounds};

/// The vectors and payload columns of a dataset.
///
/// Vectors are given as `vectors: {name: {dim, distance, column}}`, as the shorthand
/// `vectors: {name: dim}` (distance `Cosine`), or, for one unnamed vector, `vector: {dim, distance}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchemaConfigBody {
    /// Columns copied into each point's payload (at most 1024, each named once).
    #[serde(default)]
    #[schemars(length(max = "bounds::SCALAR_FIELDS"), inner(length(min = 1, max = "bounds::NAME_LENGTH")))]
    pub scalar_fields: Vec<String>,
    /// Named vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vectors: Option<BTreeMap<String, VectorInput>>,
    /// A single unnamed vector (Qdrant's default vector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<VectorParams>,
}

impl SchemaConfigBody {
    /// The canonical wire form.
    pub fn from_domain(schema: &SchemaConfig) -> Self {
        let unnamed = schema.vectors.iter().find(|(name, _)| name.is_unnamed());
        match unnamed {
            Some((_, spec)) if schema.vectors.len() == 1 => Self {
                scalar_fields: schema.scalar_fields.clone(),
                vectors: None,
                vector: Some(VectorParams::from_domain(spec)),
            },
            _ => Self {
                scalar_fields: schema.scalar_fields.clone(),
                vectors: Some(vectors_from_domain(&schema.vectors)),
                vector: None,
            },
        }
    }

    fn to_domain(&self, violations: &mut Violations) -> Option<SchemaConfig> {
        let vectors = match (&self.vectors, &self.vector) {
            (Some(_), Some(_)) => {
                violations
                    .push("schema_config.vector", "give either `vectors` (named) or `vector` (unnamed), not both");
                return None;
            }
            (None, None) => {
                violations.push("schema_config.vectors", "a dataset needs at least one vector");
                return None;
            }
            (Some(named), None) => vectors_to_domain("schema_config.vectors", named, violations)?,
            (None, Some(unnamed)) => {
                BTreeMap::from([(VectorName::unnamed(), unnamed.to_domain("schema_config.vector", violations)?)])
            }
        };
        Some(SchemaConfig { scalar_fields: self.scalar_fields.clone(), vectors })
    }
}

/// A dataset to register (also the shape a PATCH merges into).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "DatasetRequest::example")]
pub struct DatasetRequest {
    /// Name.
    #[schemars(length(min = 1, max = "bounds::NAME_LENGTH"))]
    pub name: String,
    /// `s3://bucket/key`, `https://…`, `file://…` or a path relative to the data dir.
    #[schemars(length(min = 1, max = "bounds::URL_LENGTH"))]
    pub source_uri: String,
    /// Storage whose credentials read an `s3://` source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<Uuid>,
    /// Vectors and payload columns.
    pub schema_config: SchemaConfigBody,
}

impl DatasetRequest {
    fn example() -> Self {
        Self {
            name: "wiki-mm".to_owned(),
            source_uri: "s3://datasets/wiki-mm.parquet".to_owned(),
            storage_id: None,
            schema_config: SchemaConfigBody {
                scalar_fields: vec!["title".to_owned(), "url".to_owned()],
                vectors: Some(BTreeMap::from([
                    (
                        "image_embedding".to_owned(),
                        VectorInput::Params(VectorParams {
                            dim: 512,
                            distance: Some("Euclid".to_owned()),
                            column: None,
                        }),
                    ),
                    ("text_embedding".to_owned(), VectorInput::Dim(768)),
                ])),
                vector: None,
            },
        }
    }

    /// The write form of a stored dataset, for merging a PATCH.
    pub fn from_domain(dataset: &Dataset) -> Self {
        Self {
            name: dataset.spec.name.clone(),
            source_uri: dataset.spec.source_uri.to_string(),
            storage_id: dataset.spec.storage_id.map(|id| id.as_uuid()),
            schema_config: SchemaConfigBody::from_domain(&dataset.spec.schema_config),
        }
    }
}

impl TryFrom<DatasetRequest> for DatasetSpec {
    type Error = Vec<Violation>;

    fn try_from(request: DatasetRequest) -> Result<Self, Self::Error> {
        let mut violations = Violations::default();
        let source_uri = violations.check("source_uri", request.source_uri.parse::<SourceUri>());
        let schema_config = request.schema_config.to_domain(&mut violations);
        let spec = match (source_uri, schema_config) {
            (Some(source_uri), Some(schema_config)) => Some(DatasetSpec {
                name: request.name,
                source_uri,
                storage_id: request.storage_id.map(StorageId::from),
                schema_config,
            }),
            _ => None,
        };
        violations.finish(spec)
    }
}

/// One file of an inspected dataset.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InspectedFileBody {
    /// Location.
    pub location: String,
    /// `train`, `test` or `neighbors`.
    pub role: String,
    /// Bytes.
    pub bytes: u64,
    /// Rows.
    pub rows: u64,
    /// Row groups.
    pub row_groups: u64,
}

/// One column of an inspected dataset.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InspectedColumnBody {
    /// Name.
    pub name: String,
    /// Arrow type.
    pub data_type: String,
    /// Whether nulls are allowed.
    pub nullable: bool,
}

/// What the dataset's Parquet footers said when last inspected.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InspectionBody {
    /// `singlefile`, `directory` or `glob`.
    pub layout: String,
    /// Every file.
    pub files: Vec<InspectedFileBody>,
    /// Columns of the train files.
    pub columns: Vec<InspectedColumnBody>,
    /// Rows of the train files.
    pub train_rows: u64,
    /// Rows of the test file.
    pub test_rows: u64,
    /// Bytes of all files.
    pub bytes: u64,
    /// When.
    pub inspected_at: DateTime<Utc>,
}

impl From<&Inspection> for InspectionBody {
    fn from(inspection: &Inspection) -> Self {
        Self {
            layout: inspection.layout.clone(),
            files: inspection
                .files
                .iter()
                .map(|file| InspectedFileBody {
                    location: file.location.clone(),
                    role: file.role.clone(),
                    bytes: file.bytes,
                    rows: file.rows,
                    row_groups: file.row_groups,
                })
                .collect(),
            columns: inspection
                .columns
                .iter()
                .map(|column| InspectedColumnBody {
                    name: column.name.clone(),
                    data_type: column.data_type.clone(),
                    nullable: column.nullable,
                })
                .collect(),
            train_rows: inspection.train_rows,
            test_rows: inspection.test_rows,
            bytes: inspection.bytes,
            inspected_at: inspection.inspected_at,
        }
    }
}

/// A registered dataset, with its vectors in canonical form.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(example = "DatasetResponse::example")]
pub struct DatasetResponse {
    /// Identifier.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Where the files are.
    pub source_uri: String,
    /// Storage used to read it, if any.
    pub storage_id: Option<Uuid>,
    /// Vectors and payload columns.
    pub schema_config: SchemaConfigBody,
    /// What its files' footers said when last inspected (`POST …/inspect`), or null.
    pub inspection: Option<InspectionBody>,
    /// The user who registered it; only they and admins see it.
    pub owner: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl DatasetResponse {
    fn example() -> Self {
        let request = DatasetRequest::example();
        Self {
            id: Uuid::nil(),
            name: request.name,
            source_uri: request.source_uri,
            storage_id: None,
            schema_config: request.schema_config,
            inspection: None,
            owner: "ann@example.com".to_owned(),
            created_at: DateTime::<Utc>::UNIX_EPOCH,
            updated_at: DateTime::<Utc>::UNIX_EPOCH,
        }
    }
}

impl From<&Dataset> for DatasetResponse {
    fn from(dataset: &Dataset) -> Self {
        Self {
            id: dataset.id.as_uuid(),
            name: dataset.spec.name.clone(),
            source_uri: dataset.spec.source_uri.to_string(),
            storage_id: dataset.spec.storage_id.map(|id| id.as_uuid()),
            schema_config: SchemaConfigBody::from_domain(&dataset.spec.schema_config),
            inspection: dataset.inspection.as_ref().map(InspectionBody::from),
            owner: dataset.owner.clone(),
            created_at: dataset.created_at,
            updated_at: dataset.updated_at,
        }
    }
}
