//! PATCH as JSON Merge Patch (RFC 7396) over the write form of an object.

use apistos::ApiComponent;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::api::body::from_value;
use crate::api::problem::ApiError;

/// A JSON Merge Patch: given fields replace stored ones, `null` removes an optional field.
#[derive(Debug, Clone, Deserialize, JsonSchema, ApiComponent)]
#[serde(transparent)]
pub struct MergePatch(pub serde_json::Map<String, serde_json::Value>);

/// Applies `patch` to `current` and parses the result back, naming any field the patch broke.
pub(crate) fn merge<T: Serialize + DeserializeOwned>(current: &T, patch: MergePatch) -> Result<T, ApiError> {
    let mut document = serde_json::to_value(current).map_err(|err| ApiError::internal(&err))?;
    json_patch::merge(&mut document, &serde_json::Value::Object(patch.0));
    from_value(document)
}
