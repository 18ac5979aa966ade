//! Wire types of bulk deletes: a list of ids in, one result per id out.

use apistos::ApiComponent;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The most ids one bulk request names.
pub const MAX_BULK_IDS: usize = 100;

/// Objects to delete, each once.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[serde(deny_unknown_fields)]
#[schemars(example = "BulkDeleteRequest::example")]
pub struct BulkDeleteRequest {
    /// 1 to 100 ids, each once.
    #[schemars(length(min = 1, max = 100))]
    pub ids: Vec<Uuid>,
}

const _: () = assert!(MAX_BULK_IDS == 100, "the schema's ids bound");

impl BulkDeleteRequest {
    fn example() -> Self {
        Self { ids: vec![Uuid::nil(), Uuid::max()] }
    }
}

/// What became of each id, in the order given. One failing id does not stop the others.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, ApiComponent)]
pub struct BulkDeleteResponse {
    /// How many were deleted.
    pub deleted: u64,
    /// How many were not.
    pub failed: u64,
    /// One per id.
    pub results: Vec<BulkItemResult>,
}

/// What became of one id.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BulkItemResult {
    /// The id.
    pub id: Uuid,
    /// The status its own `DELETE` would have answered: 204 deleted, 404 unknown (or not yours),
    /// 409 in use, 403 not allowed, 503 a dependency down.
    pub status: u16,
    /// Why it was not deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
