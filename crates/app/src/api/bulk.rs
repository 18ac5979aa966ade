//! Bulk deletes: each id deleted through the same service call as its own `DELETE`, its outcome
//! reported as that call's status; the ids are checked first (1 to 100, each once).

use std::future::Future;

use uuid::Uuid;

use qbench_domain::Violation;
use qbench_service::ServiceError;

use crate::api::problem::ApiError;
use crate::dto::bulk::{BulkDeleteRequest, BulkDeleteResponse, BulkItemResult, MAX_BULK_IDS};

/// The ids of `request`, or a 422 naming each one at fault.
pub(crate) fn ids(request: BulkDeleteRequest) -> Result<Vec<Uuid>, ApiError> {
    let mut violations = Vec::new();
    if request.ids.is_empty() || request.ids.len() > MAX_BULK_IDS {
        violations.push(Violation::new("ids", format!("give 1 to {MAX_BULK_IDS} ids, not {}", request.ids.len())));
    }
    for (index, id) in request.ids.iter().enumerate() {
        if request.ids[..index].contains(id) {
            violations.push(Violation::new(format!("ids[{index}]"), format!("{id} is already listed")));
        }
    }
    if violations.is_empty() { Ok(request.ids) } else { Err(ApiError::invalid(violations)) }
}

/// Deletes each of `ids` with `delete`, one after the other.
pub(crate) async fn delete_each<F, Fut>(ids: Vec<Uuid>, delete: F) -> BulkDeleteResponse
where
    F: Fn(Uuid) -> Fut,
    Fut: Future<Output = Result<(), ServiceError>>,
{
    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let result = match delete(id).await {
            Ok(()) => BulkItemResult { id, status: 204, detail: None },
            Err(error) => {
                let problem = ApiError::from(error);
                let problem = problem.problem();
                BulkItemResult { id, status: problem.status, detail: Some(problem.detail.clone()) }
            }
        };
        results.push(result);
    }
    let deleted = results.iter().filter(|result| result.status == 204).count() as u64;
    BulkDeleteResponse { deleted, failed: results.len() as u64 - deleted, results }
}
