//! Checking a file's Arrow schema against the dataset's schema, and choosing what to decode.

use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ProjectionMask;
use parquet::schema::types::SchemaDescriptor;
use qbench_domain::{SchemaConfig, VectorName};
use qbench_storage::StorageError;

use crate::error;

/// The column holding point ids (optional: without it the row index is the id).
pub(crate) const ID_COLUMN: &str = "id";
/// The column of `neighbors.parquet` holding each query's neighbour ids.
pub(crate) const NEIGHBORS_COLUMN: &str = "neighbors_id";

/// A vector to decode: its name, its column and its dimension.
#[derive(Debug, Clone)]
pub(crate) struct VectorColumn {
    /// The vector's name.
    pub(crate) name: VectorName,
    /// The Parquet column holding it.
    pub(crate) column: String,
    /// Values per row.
    pub(crate) dim: usize,
}

/// The columns to decode from one file, checked against its schema.
#[derive(Debug, Clone)]
pub(crate) struct ColumnPlan {
    /// Whether the file has an `id` column.
    pub(crate) has_id: bool,
    /// The vectors.
    pub(crate) vectors: Vec<VectorColumn>,
    /// The scalar fields copied into payloads.
    pub(crate) scalars: Vec<String>,
}

impl ColumnPlan {
    /// Checks `arrow` (the schema of `file`) against `schema` and plans what to decode; scalar
    /// fields only `with_scalars` (queries carry none).
    ///
    /// Errors: `Format` naming the column for a missing vector or scalar column, a vector column
    /// that is not a list of float16/32/64, a fixed-size list whose size is not the dimension, an
    /// id or scalar column of an unsupported type.
    pub(crate) fn new(
        file: &str,
        arrow: &Schema,
        schema: &SchemaConfig,
        with_scalars: bool,
    ) -> Result<Self, StorageError> {
        let has_id = match arrow.field_with_name(ID_COLUMN) {
            Ok(field) => {
                check_id(file, field)?;
                true
            }
            Err(_) => false,
        };
        let mut vectors = Vec::with_capacity(schema.vectors.len());
        for (name, spec) in &schema.vectors {
            let column = spec.column_for(name);
            let dim = usize::try_from(spec.dim.get()).unwrap_or(usize::MAX);
            let field = arrow.field_with_name(&column).map_err(|_| {
                error::format(
                    file,
                    Some(&column),
                    None,
                    format!(
                        "the column of vector {} (dim {dim}) is missing; the file has columns {}",
                        display(name),
                        column_names(arrow)
                    ),
                )
            })?;
            check_vector(file, field, dim)?;
            vectors.push(VectorColumn { name: name.clone(), column, dim });
        }
        let mut scalars = Vec::new();
        if with_scalars {
            for column in &schema.scalar_fields {
                let field = arrow.field_with_name(column).map_err(|_| {
                    error::format(
                        file,
                        Some(column),
                        None,
                        format!("the scalar field is missing; the file has columns {}", column_names(arrow)),
                    )
                })?;
                check_scalar(file, field)?;
                scalars.push(column.clone());
            }
        }
        Ok(Self { has_id, vectors, scalars })
    }

    /// The projection decoding only the planned columns.
    pub(crate) fn projection(&self, arrow: &Schema, parquet: &SchemaDescriptor) -> ProjectionMask {
        let mut names: Vec<&str> = self.vectors.iter().map(|v| v.column.as_str()).collect();
        names.extend(self.scalars.iter().map(String::as_str));
        if self.has_id {
            names.push(ID_COLUMN);
        }
        roots(arrow, parquet, &names)
    }
}

/// The projection decoding only the named top-level columns.
pub(crate) fn roots(arrow: &Schema, parquet: &SchemaDescriptor, names: &[&str]) -> ProjectionMask {
    let indices: Vec<usize> = names.iter().filter_map(|name| arrow.index_of(name).ok()).collect();
    ProjectionMask::roots(parquet, indices)
}

/// Checks the columns of `neighbors.parquet`: an optional id and a list of ids.
pub(crate) fn check_neighbors(file: &str, arrow: &Schema) -> Result<(), StorageError> {
    if let Ok(field) = arrow.field_with_name(ID_COLUMN) {
        check_id(file, field)?;
    }
    let field = arrow.field_with_name(NEIGHBORS_COLUMN).map_err(|_| {
        error::format(
            file,
            Some(NEIGHBORS_COLUMN),
            None,
            format!("the neighbours column is missing; the file has columns {}", column_names(arrow)),
        )
    })?;
    match list_element(field.data_type()) {
        Some((element, _)) if is_id_type(element.data_type()) => Ok(()),
        Some(_) | None => Err(error::format(
            file,
            Some(NEIGHBORS_COLUMN),
            None,
            format!("expected a list of integer or string ids, found {}", field.data_type()),
        )),
    }
}

/// Checks an id column: integers or strings.
fn check_id(file: &str, field: &Field) -> Result<(), StorageError> {
    if is_id_type(field.data_type()) {
        return Ok(());
    }
    Err(error::format(
        file,
        Some(ID_COLUMN),
        None,
        format!("expected int64, uint64, int32, uint32 or string ids, found {}", field.data_type()),
    ))
}

/// Whether ids of this type can be decoded.
pub(crate) fn is_id_type(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Int64
            | DataType::UInt64
            | DataType::Int32
            | DataType::UInt32
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
    )
}

/// Checks a vector column: a list of floats, of `dim` values when the size is fixed.
fn check_vector(file: &str, field: &Field, dim: usize) -> Result<(), StorageError> {
    let wrong_type = || {
        error::format(
            file,
            Some(field.name()),
            None,
            format!("expected a list of float32, float16 or float64 values, found {}", field.data_type()),
        )
    };
    let (element, fixed_size) = list_element(field.data_type()).ok_or_else(wrong_type)?;
    if !matches!(element.data_type(), DataType::Float32 | DataType::Float16 | DataType::Float64) {
        return Err(wrong_type());
    }
    if let Some(size) = fixed_size
        && size != dim
    {
        return Err(error::format(
            file,
            Some(field.name()),
            None,
            format!("the column holds fixed-size lists of {size} values, the schema says dim {dim}"),
        ));
    }
    Ok(())
}

/// Checks a scalar field: booleans, numbers or strings.
fn check_scalar(file: &str, field: &Field) -> Result<(), StorageError> {
    let supported = matches!(
        field.data_type(),
        DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float16
            | DataType::Float32
            | DataType::Float64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
    );
    if supported {
        return Ok(());
    }
    Err(error::format(
        file,
        Some(field.name()),
        None,
        format!("scalar fields must be booleans, integers, floats or strings, found {}", field.data_type()),
    ))
}

/// The element field of a list type, and the size of a fixed-size list.
pub(crate) fn list_element(data_type: &DataType) -> Option<(&Field, Option<usize>)> {
    if let DataType::List(element) | DataType::LargeList(element) = data_type {
        return Some((element, None));
    }
    if let DataType::FixedSizeList(element, size) = data_type {
        return Some((element, usize::try_from(*size).ok()));
    }
    None
}

/// The column names of a schema, for messages.
fn column_names(arrow: &Schema) -> String {
    let names: Vec<&str> = arrow.fields().iter().map(|field| field.name().as_str()).collect();
    if names.is_empty() { "(none)".to_owned() } else { names.join(", ") }
}

/// A vector's name for messages.
fn display(name: &VectorName) -> String {
    if name.is_unnamed() { "(unnamed)".to_owned() } else { format!("`{name}`") }
}
