//! Decoding Arrow record batches into the port's [`PointBatch`]: ids, vectors as `f32`, scalar
//! payloads as JSON.
//!
//! Every value that contradicts the schema is a `Format` error naming the file, the column, the
//! row group and the row (counted from the start of the file).

use std::collections::BTreeMap;
use std::ops::Range;

use arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, LargeListArray, LargeStringArray, ListArray, PrimitiveArray,
    StringArray, StringViewArray,
};
use arrow::datatypes::{
    ArrowPrimitiveType, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow::record_batch::RecordBatch;
use qbench_domain::PointId;
use qbench_storage::{PointBatch, StorageError};
use serde_json::{Map, Value};

use crate::columns::{ColumnPlan, ID_COLUMN};
use crate::error;
use crate::footer::RowGroups;

/// Where a record batch comes from, to number its rows and name them in errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchOrigin<'a> {
    /// The file's URI.
    pub(crate) file: &'a str,
    /// The file's row groups.
    pub(crate) row_groups: &'a RowGroups,
    /// The file row of the batch's first row.
    pub(crate) file_row: u64,
    /// The row number of the batch's first row across the part's files.
    pub(crate) first_row: u64,
}

impl BatchOrigin<'_> {
    /// A `Format` error about row `row` of the batch in `column`; `reason` gets the file row.
    pub(crate) fn error(&self, column: &str, row: usize, reason: impl FnOnce(u64) -> String) -> StorageError {
        let file_row = self.file_row + row as u64;
        error::format(self.file, Some(column), Some(self.row_groups.of_row(file_row)), reason(file_row))
    }

    /// The column `name` of `batch` (the projection guarantees it is there).
    pub(crate) fn column<'b>(&self, batch: &'b RecordBatch, name: &str) -> Result<&'b ArrayRef, StorageError> {
        batch.column_by_name(name).ok_or_else(|| {
            error::format(
                self.file,
                Some(name),
                Some(self.row_groups.of_row(self.file_row)),
                "the column is missing from the decoded rows",
            )
        })
    }
}

/// Decodes the planned columns of `batch`.
pub(crate) fn points(
    batch: &RecordBatch,
    plan: &ColumnPlan,
    origin: &BatchOrigin<'_>,
) -> Result<PointBatch, StorageError> {
    let rows = batch.num_rows();
    let ids = if plan.has_id {
        ids(origin.column(batch, ID_COLUMN)?, ID_COLUMN, origin)?
    } else {
        (0..rows as u64).map(|row| PointId::Num(origin.first_row + row)).collect()
    };
    let mut vectors = BTreeMap::new();
    for vector in &plan.vectors {
        let values = vectors_of(origin.column(batch, &vector.column)?, &vector.column, vector.dim, origin)?;
        vectors.insert(vector.name.clone(), values);
    }
    let mut payloads = vec![Map::new(); rows];
    for field in &plan.scalars {
        let array = origin.column(batch, field)?;
        for (row, payload) in payloads.iter_mut().enumerate() {
            payload.insert(field.clone(), scalar(array.as_ref(), row));
        }
    }
    Ok(PointBatch { first_row: origin.first_row, ids, vectors, payloads })
}

/// Decodes an id column.
pub(crate) fn ids(array: &ArrayRef, column: &str, origin: &BatchOrigin<'_>) -> Result<Vec<PointId>, StorageError> {
    let reader = IdReader::new(array.as_ref())
        .ok_or_else(|| origin.error(column, 0, |_| format!("ids of type {} cannot be read", array.data_type())))?;
    (0..array.len())
        .map(|row| {
            reader.get(row).map_err(|reason| origin.error(column, row, |file_row| format!("row {file_row}: {reason}")))
        })
        .collect()
}

/// Reads point ids from an integer or string array.
pub(crate) enum IdReader<'a> {
    /// Signed 64-bit ids (negative ones are refused).
    I64(&'a PrimitiveArray<Int64Type>),
    /// Signed 32-bit ids (negative ones are refused).
    I32(&'a PrimitiveArray<Int32Type>),
    /// Unsigned 64-bit ids.
    U64(&'a PrimitiveArray<UInt64Type>),
    /// Unsigned 32-bit ids.
    U32(&'a PrimitiveArray<UInt32Type>),
    /// String ids, mapped to stable UUIDs.
    Utf8(&'a StringArray),
    /// Large string ids.
    LargeUtf8(&'a LargeStringArray),
    /// String-view ids.
    Utf8View(&'a StringViewArray),
}

impl<'a> IdReader<'a> {
    /// A reader of `array`, `None` for an unsupported type.
    pub(crate) fn new(array: &'a dyn Array) -> Option<Self> {
        if let Some(array) = array.as_primitive_opt::<Int64Type>() {
            return Some(Self::I64(array));
        }
        if let Some(array) = array.as_primitive_opt::<Int32Type>() {
            return Some(Self::I32(array));
        }
        if let Some(array) = array.as_primitive_opt::<UInt64Type>() {
            return Some(Self::U64(array));
        }
        if let Some(array) = array.as_primitive_opt::<UInt32Type>() {
            return Some(Self::U32(array));
        }
        if let Some(array) = array.as_string_opt::<i32>() {
            return Some(Self::Utf8(array));
        }
        if let Some(array) = array.as_string_opt::<i64>() {
            return Some(Self::LargeUtf8(array));
        }
        array.as_string_view_opt().map(Self::Utf8View)
    }

    /// The id at `index`, or why there is none.
    pub(crate) fn get(&self, index: usize) -> Result<PointId, String> {
        if self.array().is_null(index) {
            return Err("the id is null".to_owned());
        }
        let signed = |value: i64| {
            u64::try_from(value)
                .map(PointId::Num)
                .map_err(|_| format!("id {value} is negative; point ids must be unsigned integers or strings"))
        };
        match self {
            Self::I64(array) => signed(array.value(index)),
            Self::I32(array) => signed(i64::from(array.value(index))),
            Self::U64(array) => Ok(PointId::Num(array.value(index))),
            Self::U32(array) => Ok(PointId::Num(u64::from(array.value(index)))),
            Self::Utf8(array) => Ok(PointId::from_key(array.value(index))),
            Self::LargeUtf8(array) => Ok(PointId::from_key(array.value(index))),
            Self::Utf8View(array) => Ok(PointId::from_key(array.value(index))),
        }
    }

    /// The array read.
    fn array(&self) -> &dyn Array {
        match self {
            Self::I64(array) => *array,
            Self::I32(array) => *array,
            Self::U64(array) => *array,
            Self::U32(array) => *array,
            Self::Utf8(array) => *array,
            Self::LargeUtf8(array) => *array,
            Self::Utf8View(array) => *array,
        }
    }
}

/// The rows of a list column of any of the three list layouts.
pub(crate) enum Lists<'a> {
    /// `List`, 32-bit offsets.
    List(&'a ListArray),
    /// `LargeList`, 64-bit offsets.
    Large(&'a LargeListArray),
    /// `FixedSizeList`.
    Fixed(&'a FixedSizeListArray),
}

impl<'a> Lists<'a> {
    /// The lists of `array`, `None` when it is not a list.
    pub(crate) fn new(array: &'a dyn Array) -> Option<Self> {
        if let Some(array) = array.as_list_opt::<i32>() {
            return Some(Self::List(array));
        }
        if let Some(array) = array.as_list_opt::<i64>() {
            return Some(Self::Large(array));
        }
        array.as_fixed_size_list_opt().map(Self::Fixed)
    }

    /// All values, row after row.
    pub(crate) fn values(&self) -> &'a ArrayRef {
        match self {
            Self::List(array) => array.values(),
            Self::Large(array) => array.values(),
            Self::Fixed(array) => array.values(),
        }
    }

    /// The range of `values()` holding row `row`.
    pub(crate) fn range(&self, row: usize) -> Range<usize> {
        match self {
            Self::List(array) => {
                let offsets = array.value_offsets();
                to_usize(i64::from(offsets[row]))..to_usize(i64::from(offsets[row + 1]))
            }
            Self::Large(array) => {
                let offsets = array.value_offsets();
                to_usize(offsets[row])..to_usize(offsets[row + 1])
            }
            Self::Fixed(array) => {
                let start = array.value_offset_at(row);
                start..start + to_usize(i64::from(array.value_length()))
            }
        }
    }

    /// Whether row `row` is null.
    pub(crate) fn is_null(&self, row: usize) -> bool {
        match self {
            Self::List(array) => array.is_null(row),
            Self::Large(array) => array.is_null(row),
            Self::Fixed(array) => array.is_null(row),
        }
    }
}

/// An Arrow offset as an index (offsets are never negative in valid arrays).
fn to_usize(offset: i64) -> usize {
    usize::try_from(offset).unwrap_or(0)
}

/// Decodes a vector column into `rows × dim` floats.
fn vectors_of(array: &ArrayRef, column: &str, dim: usize, origin: &BatchOrigin<'_>) -> Result<Vec<f32>, StorageError> {
    let wrong_type =
        || origin.error(column, 0, |_| format!("expected a list of float values, found {}", array.data_type()));
    let lists = Lists::new(array.as_ref()).ok_or_else(wrong_type)?;
    let mut out = Vec::with_capacity(array.len() * dim);
    let rows = VectorRows { lists: &lists, rows: array.len(), column, dim, origin };
    let values = lists.values();
    if let Some(values) = values.as_primitive_opt::<Float32Type>() {
        rows.copy(values, |v| v, &mut out)?;
    } else if let Some(values) = values.as_primitive_opt::<Float16Type>() {
        rows.copy(values, half::f16::to_f32, &mut out)?;
    } else if let Some(values) = values.as_primitive_opt::<Float64Type>() {
        // Vectors are f32: values beyond its range become infinite and are refused below.
        rows.copy(values, |v| v as f32, &mut out)?;
    } else {
        return Err(wrong_type());
    }
    Ok(out)
}

/// The rows of one vector column being copied.
struct VectorRows<'a, 'b> {
    /// The column's lists.
    lists: &'a Lists<'b>,
    /// Rows in the batch.
    rows: usize,
    /// The column's name, for errors.
    column: &'a str,
    /// Values each row must have.
    dim: usize,
    /// Where the batch comes from, for errors.
    origin: &'a BatchOrigin<'a>,
}

impl VectorRows<'_, '_> {
    /// Copies every row into `out`, checking nulls, lengths and finiteness.
    fn copy<T: ArrowPrimitiveType>(
        &self,
        values: &PrimitiveArray<T>,
        to_f32: impl Fn(T::Native) -> f32,
        out: &mut Vec<f32>,
    ) -> Result<(), StorageError> {
        let raw = values.values();
        let nulls = values.nulls().filter(|nulls| nulls.null_count() > 0);
        for row in 0..self.rows {
            if self.lists.is_null(row) {
                return Err(self.origin.error(self.column, row, |r| format!("row {r}: the vector is null")));
            }
            let range = self.lists.range(row);
            if range.len() != self.dim {
                let (len, dim) = (range.len(), self.dim);
                return Err(self
                    .origin
                    .error(self.column, row, |r| format!("row {r} has {len} values, the schema says dim {dim}")));
            }
            if let Some(nulls) = nulls
                && let Some(position) = range.clone().position(|index| nulls.is_null(index))
            {
                return Err(self.origin.error(self.column, row, |r| format!("row {r}: value {position} is null")));
            }
            for (position, &value) in raw[range].iter().enumerate() {
                let value = to_f32(value);
                if !value.is_finite() {
                    return Err(self.origin.error(self.column, row, |r| {
                        format!("row {r}: value {position} is {value}; vectors must hold finite float32 values")
                    }));
                }
                out.push(value);
            }
        }
        Ok(())
    }
}

/// A scalar cell as JSON: booleans, numbers (non-finite floats become null) and strings; nulls
/// and unsupported types are null.
fn scalar(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    if let Some(array) = array.as_boolean_opt() {
        return Value::Bool(array.value(row));
    }
    if let Some(value) = signed(array, row) {
        return Value::from(value);
    }
    if let Some(value) = unsigned(array, row) {
        return Value::from(value);
    }
    if let Some(value) = float(array, row) {
        return serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number);
    }
    if let Some(array) = array.as_string_opt::<i32>() {
        return Value::from(array.value(row));
    }
    if let Some(array) = array.as_string_opt::<i64>() {
        return Value::from(array.value(row));
    }
    if let Some(array) = array.as_string_view_opt() {
        return Value::from(array.value(row));
    }
    Value::Null
}

/// A signed integer cell.
fn signed(array: &dyn Array, row: usize) -> Option<i64> {
    array
        .as_primitive_opt::<Int64Type>()
        .map(|a| a.value(row))
        .or_else(|| array.as_primitive_opt::<Int32Type>().map(|a| i64::from(a.value(row))))
        .or_else(|| array.as_primitive_opt::<Int16Type>().map(|a| i64::from(a.value(row))))
        .or_else(|| array.as_primitive_opt::<Int8Type>().map(|a| i64::from(a.value(row))))
}

/// An unsigned integer cell.
fn unsigned(array: &dyn Array, row: usize) -> Option<u64> {
    array
        .as_primitive_opt::<UInt64Type>()
        .map(|a| a.value(row))
        .or_else(|| array.as_primitive_opt::<UInt32Type>().map(|a| u64::from(a.value(row))))
        .or_else(|| array.as_primitive_opt::<UInt16Type>().map(|a| u64::from(a.value(row))))
        .or_else(|| array.as_primitive_opt::<UInt8Type>().map(|a| u64::from(a.value(row))))
}

/// A floating-point cell.
fn float(array: &dyn Array, row: usize) -> Option<f64> {
    array
        .as_primitive_opt::<Float64Type>()
        .map(|a| a.value(row))
        .or_else(|| array.as_primitive_opt::<Float32Type>().map(|a| f64::from(a.value(row))))
        .or_else(|| array.as_primitive_opt::<Float16Type>().map(|a| a.value(row).to_f64()))
}
