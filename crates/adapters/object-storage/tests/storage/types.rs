//! Every vector element type and list layout, id types and scalar types.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Float32Array, Int32Array, Int64Array, LargeStringArray, StringArray, UInt8Array,
    UInt64Array,
};
use qbench_domain::PointId;
use qbench_storage::DatasetPart;
use serde_json::json;

use crate::support::{
    Element, Env, Layout, assert_format, inspect, read_error, read_merged, rows, schema, source, vectors, write_parquet,
};

#[tokio::test]
async fn every_float_element_type_in_every_list_layout_reads_as_f32() {
    let env = Env::new();
    // Values exact in float16, so every element type reads back the same floats.
    let values = vec![Some(vec![0.5, -1.25, 2.0]), Some(vec![1024.0, 0.0, -0.125])];
    let expected: Vec<f32> = vec![0.5, -1.25, 2.0, 1024.0, 0.0, -0.125];
    let schema = schema(&[("v", 3)], &[]);
    for element in [Element::F16, Element::F32, Element::F64] {
        for layout in [Layout::List, Layout::LargeList, Layout::FixedSizeList] {
            let name = format!("types/{element:?}-{layout:?}.parquet");
            write_parquet(&env.file(&name), vec![("v", vectors(element, layout, &values))], 10);
            let inspection = inspect(&env.storage, &source(&name), &schema).await.unwrap();
            let data_type = &inspection.columns[0].data_type;
            assert!(data_type.starts_with(&format!("{layout:?}(")), "{name}: {data_type}");
            let batch = read_merged(&env.storage, &source(&name), &schema, DatasetPart::Train).await.unwrap();
            assert_eq!(batch.vectors.values().next().unwrap(), &expected, "{name}");
            assert_eq!(batch.ids, [PointId::Num(0), PointId::Num(1)], "{name}: row numbers without an id column");
        }
    }
}

#[tokio::test]
async fn string_ids_become_stable_uuids_and_uuid_strings_are_kept() {
    let env = Env::new();
    let keys = ["doc-1", "doc-2", "67e55044-10b1-426f-9247-bb680e5fe0c8"];
    let expected: Vec<PointId> = keys.iter().map(|key| PointId::from_key(key)).collect();
    assert_eq!(expected[2], PointId::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".parse().unwrap()));
    let columns: [(&str, ArrayRef); 2] = [
        ("utf8", Arc::new(StringArray::from(keys.to_vec()))),
        ("large", Arc::new(LargeStringArray::from(keys.to_vec()))),
    ];
    let schema = schema(&[("v", 2)], &[]);
    for (name, ids) in columns {
        let path = format!("ids/{name}.parquet");
        write_parquet(&env.file(&path), vec![("id", ids), ("v", vectors(Element::F32, Layout::List, &rows(3, 2)))], 10);
        for _ in 0..2 {
            let batch = read_merged(&env.storage, &source(&path), &schema, DatasetPart::Train).await.unwrap();
            assert_eq!(batch.ids, expected, "{name}: the same strings always name the same points");
        }
    }
}

#[tokio::test]
async fn integer_ids_are_numbers_and_negative_ones_are_refused() {
    let env = Env::new();
    let schema = schema(&[("v", 2)], &[]);
    let unsigned: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX, 0]));
    write_parquet(
        &env.file("ids/u64.parquet"),
        vec![("id", unsigned), ("v", vectors(Element::F32, Layout::List, &rows(2, 2)))],
        10,
    );
    let batch = read_merged(&env.storage, &source("ids/u64.parquet"), &schema, DatasetPart::Train).await.unwrap();
    assert_eq!(batch.ids, [PointId::Num(u64::MAX), PointId::Num(0)]);

    let signed: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3, -5]));
    write_parquet(
        &env.file("ids/neg.parquet"),
        vec![("id", signed), ("v", vectors(Element::F32, Layout::List, &rows(4, 2)))],
        2,
    );
    let error = read_error(&env.storage, &source("ids/neg.parquet"), &schema, DatasetPart::Train).await;
    assert_format(&error, "ids/neg.parquet", Some("id"), Some(1), "row 3: id -5 is negative");
}

#[tokio::test]
async fn scalar_fields_become_json_values_and_nulls_become_null() {
    let env = Env::new();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("v", vectors(Element::F32, Layout::FixedSizeList, &rows(3, 2))),
        ("count", Arc::new(Int32Array::from(vec![Some(-3), None, Some(7)]))),
        ("small", Arc::new(UInt8Array::from(vec![1, 2, 255]))),
        ("score", Arc::new(Float32Array::from(vec![Some(0.5), Some(f32::NAN), None]))),
        ("label", Arc::new(StringArray::from(vec![Some("a"), None, Some("ü")]))),
        ("ok", Arc::new(BooleanArray::from(vec![Some(true), Some(false), None]))),
        ("ignored", Arc::new(Int64Array::from(vec![1, 2, 3]))),
    ];
    write_parquet(&env.file("scalars.parquet"), columns, 10);
    let schema = schema(&[("v", 2)], &["count", "small", "score", "label", "ok"]);
    let batch = read_merged(&env.storage, &source("scalars.parquet"), &schema, DatasetPart::Train).await.unwrap();
    let payloads: Vec<serde_json::Value> = batch.payloads.into_iter().map(serde_json::Value::Object).collect();
    assert_eq!(
        payloads,
        [
            json!({"count": -3, "small": 1, "score": 0.5, "label": "a", "ok": true}),
            json!({"count": null, "small": 2, "score": null, "label": null, "ok": false}),
            json!({"count": 7, "small": 255, "score": null, "label": "ü", "ok": null}),
        ]
    );

    let missing = crate::support::schema(&[("v", 2)], &["nope"]);
    let error = inspect(&env.storage, &source("scalars.parquet"), &missing).await.unwrap_err();
    assert_format(&error, "scalars.parquet", Some("nope"), None, "the scalar field is missing");
}
