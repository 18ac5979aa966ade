//! PATCH as JSON Merge Patch (RFC 7396) over the write form of an object.

use apistos::ApiComponent;
use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::body::from_value;
use crate::api::problem::ApiError;

/// A JSON Merge Patch: given fields replace stored ones, `null` removes an optional field.
#[derive(Debug, Clone, Deserialize, ApiComponent)]
#[serde(transparent)]
pub struct MergePatch(pub serde_json::Map<String, serde_json::Value>);

impl JsonSchema for MergePatch {
    fn schema_name() -> String {
        "MergePatch".to_owned()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        let mut schema = SchemaObject { instance_type: Some(InstanceType::Object.into()), ..Default::default() };
        let metadata = schema.metadata();
        metadata.description = Some(
            "A JSON Merge Patch (RFC 7396) of the object's fields: given fields replace stored ones, null removes an \
             optional field."
                .to_owned(),
        );
        metadata.examples = vec![serde_json::json!({"name": "qdrant-prod", "api_key": null})];
        schema.into()
    }
}

/// Applies `patch` to `current` and parses the result back, naming any field the patch broke.
pub(crate) fn merge<T: Serialize + DeserializeOwned>(current: &T, patch: MergePatch) -> Result<T, ApiError> {
    let mut document = serde_json::to_value(current).map_err(|err| ApiError::internal(&err))?;
    json_patch::merge(&mut document, &serde_json::Value::Object(patch.0));
    from_value(document)
}
