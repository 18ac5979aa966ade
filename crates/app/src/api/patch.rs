//! PATCH as JSON Merge Patch (RFC 7396) over the write form of an object.

use std::marker::PhantomData;

use apistos::ApiComponent;
use schemars::JsonSchema;
use schemars::r#gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{Schema, SchemaObject};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use crate::api::body::from_value;
use crate::api::problem::ApiError;

/// A JSON Merge Patch of `T`, the write form of an object: given fields replace stored ones,
/// `null` removes an optional field.
///
/// Its schema is `T`'s with every field optional and each optional field nullable; unknown
/// fields are refused (`additionalProperties: false`), as the merged result is parsed as `T`.
#[derive(Debug, Clone, ApiComponent)]
pub struct MergePatch<T: JsonSchema> {
    fields: serde_json::Map<String, serde_json::Value>,
    target: PhantomData<fn() -> T>,
}

impl<T: JsonSchema> MergePatch<T> {
    /// A patch of these fields.
    pub fn new(fields: serde_json::Map<String, serde_json::Value>) -> Self {
        Self { fields, target: PhantomData }
    }
}

impl<'de, T: JsonSchema> Deserialize<'de> for MergePatch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Map::deserialize(deserializer).map(Self::new)
    }
}

impl<T: JsonSchema> Serialize for MergePatch<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize(serializer)
    }
}

impl<T: JsonSchema> JsonSchema for MergePatch<T> {
    fn schema_name() -> String {
        // `ConnectionRequest` → `ConnectionPatch`.
        let name = T::schema_name();
        format!("{}Patch", name.strip_suffix("Request").unwrap_or(&name))
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = match T::json_schema(generator) {
            Schema::Object(schema) => schema,
            Schema::Bool(_) => SchemaObject::default(),
        };
        let object = schema.object();
        let required = std::mem::take(&mut object.required);
        for (name, property) in &mut object.properties {
            // A required field cannot be removed, so only optional ones take `null`.
            if !required.contains(name) {
                *property = nullable(std::mem::replace(property, Schema::Bool(true)));
            }
        }
        let metadata = schema.metadata();
        metadata.title = None;
        metadata.description = Some(format!(
            "A JSON Merge Patch (RFC 7396) of a {}: given fields replace the stored ones (objects are merged \
             field by field), null removes an optional field; fields it does not name are kept.",
            T::schema_name()
        ));
        metadata.examples = vec![patch_example(&metadata.examples)];
        schema.into()
    }
}

/// `schema` that also accepts `null` (OpenAPI 3.0 spells it `nullable`, which a `$ref` ignores).
fn nullable(schema: Schema) -> Schema {
    match schema {
        Schema::Object(mut object) if object.reference.is_none() => {
            object.extensions.insert("nullable".to_owned(), serde_json::Value::Bool(true));
            object.into()
        }
        other @ (Schema::Object(_) | Schema::Bool(_)) => {
            let mut wrapper = SchemaObject::default();
            wrapper.subschemas().all_of = Some(vec![other]);
            wrapper.extensions.insert("nullable".to_owned(), serde_json::Value::Bool(true));
            wrapper.into()
        }
    }
}

/// A patch example: the first field of the write form's example, or an empty patch.
fn patch_example(examples: &[serde_json::Value]) -> serde_json::Value {
    let first = examples
        .first()
        .and_then(serde_json::Value::as_object)
        .and_then(|object| object.iter().next())
        .map(|(name, value)| (name.clone(), value.clone()));
    serde_json::Value::Object(first.into_iter().collect())
}

/// The path of the first field of `patch` that `schema` does not have, if any.
///
/// Parsing the merged result refuses an unknown field that the patch sets, but `{"typo": null}`
/// removes nothing and would pass unseen; the schema (the very one the document publishes) knows
/// every field. Objects of unknown shape (one-of alternatives) are left to the parser.
fn unknown_field(
    patch: &serde_json::Map<String, serde_json::Value>,
    schema: &Schema,
    definitions: &schemars::Map<String, Schema>,
    path: &str,
) -> Option<String> {
    let Schema::Object(object) = schema else { return None };
    if let Some(reference) = &object.reference {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return definitions.get(name).and_then(|schema| unknown_field(patch, schema, definitions, path));
    }
    if let Some(all_of) = object.subschemas.as_ref().and_then(|subschemas| subschemas.all_of.as_ref()) {
        return all_of.iter().find_map(|schema| unknown_field(patch, schema, definitions, path));
    }
    let validation = object.object.as_ref()?;
    patch.iter().find_map(|(key, value)| {
        let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        let property = match validation.properties.get(key) {
            Some(property) => property,
            None => match validation.additional_properties.as_deref() {
                Some(Schema::Bool(false)) => return Some(field),
                Some(values) => values,
                None => return None,
            },
        };
        value.as_object().and_then(|nested| unknown_field(nested, property, definitions, &field))
    })
}

/// Applies `patch` to `current` and parses the result back, naming any field the patch broke.
pub(crate) fn merge<T: Serialize + DeserializeOwned + JsonSchema>(
    current: &T,
    patch: MergePatch<T>,
) -> Result<T, ApiError> {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let schema = MergePatch::<T>::json_schema(&mut generator);
    if let Some(field) = unknown_field(&patch.fields, &schema, generator.definitions(), "") {
        let name = field.rsplit('.').next().unwrap_or_default().to_owned();
        return Err(ApiError::invalid(vec![qbench_domain::Violation::new(field, format!("unknown field `{name}`"))]));
    }
    let mut document = serde_json::to_value(current).map_err(|err| ApiError::internal(&err))?;
    json_patch::merge(&mut document, &serde_json::Value::Object(patch.fields));
    from_value(document)
}
