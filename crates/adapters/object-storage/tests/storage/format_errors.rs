//! Every way the data can contradict the schema is a `Format` error naming file, column and (for
//! errors in the rows) row group.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int32Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Int32Type};
use qbench_storage::{DatasetPart, DatasetReader};

use crate::support::{
    Element, Env, Layout, assert_format, inspect, read_error, rows, schema, source, vectors, write_parquet,
};

#[tokio::test]
async fn a_missing_vector_column_is_named_by_inspect_and_by_the_stream() {
    let env = Env::new();
    write_parquet(&env.file("x.parquet"), vec![("other", vectors(Element::F32, Layout::List, &rows(2, 4)))], 10);
    let schema = schema(&[("dense", 4)], &[]);
    let error = inspect(&env.storage, &source("x.parquet"), &schema).await.unwrap_err();
    assert_format(
        &error,
        "x.parquet",
        Some("dense"),
        None,
        "the column of vector `dense` (dim 4) is missing; the file has columns other",
    );
    let error = read_error(&env.storage, &source("x.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "x.parquet", Some("dense"), None, "is missing");
}

#[tokio::test]
async fn a_list_of_integers_is_the_wrong_element_type() {
    let env = Env::new();
    let ints = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1), Some(2)])]);
    write_parquet(&env.file("ints.parquet"), vec![("v", Arc::new(ints) as ArrayRef)], 10);
    let schema = schema(&[("v", 2)], &[]);
    let error = inspect(&env.storage, &source("ints.parquet"), &schema).await.unwrap_err();
    assert_format(
        &error,
        "ints.parquet",
        Some("v"),
        None,
        "expected a list of float32, float16 or float64 values, found List(Int32)",
    );
    let error = read_error(&env.storage, &source("ints.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "ints.parquet", Some("v"), None, "found List(Int32)");

    let scalar: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    write_parquet(&env.file("scalar.parquet"), vec![("v", scalar)], 10);
    let error = inspect(&env.storage, &source("scalar.parquet"), &schema).await.unwrap_err();
    assert_format(&error, "scalar.parquet", Some("v"), None, "found Int32");
}

#[tokio::test]
async fn a_fixed_size_list_of_another_size_than_dim_is_refused() {
    let env = Env::new();
    write_parquet(
        &env.file("fixed.parquet"),
        vec![("v", vectors(Element::F16, Layout::FixedSizeList, &rows(2, 3)))],
        10,
    );
    let schema = schema(&[("v", 4)], &[]);
    let error = inspect(&env.storage, &source("fixed.parquet"), &schema).await.unwrap_err();
    assert_format(&error, "fixed.parquet", Some("v"), None, "fixed-size lists of 3 values, the schema says dim 4");
    let error = read_error(&env.storage, &source("fixed.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "fixed.parquet", Some("v"), None, "the schema says dim 4");
}

#[tokio::test]
async fn a_row_of_the_wrong_length_names_its_row_and_row_group() {
    let env = Env::new();
    let mut values = rows(8, 4);
    values[6] = Some(vec![1.0, 2.0, 3.0]);
    write_parquet(&env.file("short.parquet"), vec![("emb", vectors(Element::F32, Layout::List, &values))], 4);
    let mut schema = schema(&[("dense", 4)], &[]);
    schema.vectors.values_mut().for_each(|spec| spec.column = Some("emb".to_owned()));
    let error = read_error(&env.storage, &source("short.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "short.parquet", Some("emb"), Some(1), "row 6 has 3 values, the schema says dim 4");
    assert!(
        error
            .to_string()
            .ends_with("short.parquet, column `emb`, row group 1: row 6 has 3 values, the schema says dim 4"),
        "{error}"
    );
}

#[tokio::test]
async fn a_null_vector_or_a_null_value_is_refused() {
    let env = Env::new();
    let mut values = rows(3, 2);
    values[2] = None;
    write_parquet(&env.file("null.parquet"), vec![("v", vectors(Element::F64, Layout::LargeList, &values))], 10);
    let schema = schema(&[("v", 2)], &[]);
    let error = read_error(&env.storage, &source("null.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "null.parquet", Some("v"), Some(0), "row 2: the vector is null");

    let with_null_value = ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float32, true)),
        OffsetBuffer::from_lengths([2, 2]),
        Arc::new(arrow::array::Float32Array::from(vec![Some(1.0), Some(2.0), Some(3.0), None])),
        None,
    );
    write_parquet(&env.file("null-value.parquet"), vec![("v", Arc::new(with_null_value) as ArrayRef)], 10);
    let error = read_error(&env.storage, &source("null-value.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "null-value.parquet", Some("v"), Some(0), "row 1: value 1 is null");
}

#[tokio::test]
async fn nan_and_infinite_values_are_refused() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    for (name, element, bad, shown) in [
        ("nan.parquet", Element::F64, f64::NAN, "NaN"),
        ("inf.parquet", Element::F32, f64::INFINITY, "inf"),
        ("f16-overflow.parquet", Element::F16, -1.0e6, "-inf"),
        ("f64-overflow.parquet", Element::F64, 1.0e300, "inf"),
    ] {
        let mut values = rows(5, 2);
        values[3] = Some(vec![0.0, bad]);
        write_parquet(&env.file(name), vec![("v", vectors(element, Layout::FixedSizeList, &values))], 2);
        let error = read_error(&env.storage, &source(name), &schema, DatasetPart::Train).await;
        assert_format(
            &error,
            name,
            Some("v"),
            Some(1),
            &format!("row 3: value 1 is {shown}; vectors must hold finite float32 values"),
        );
    }
}

#[tokio::test]
async fn a_file_that_is_not_parquet_is_a_format_error() {
    let env = Env::new();
    std::fs::write(env.file("fake.parquet"), b"this is not a parquet file at all").unwrap();
    let schema = schema(&[("v", 2)], &[]);
    let error = env.storage.inspect(&source("fake.parquet"), &schema).await.unwrap_err();
    assert_format(&error, "fake.parquet", None, None, "");
}
