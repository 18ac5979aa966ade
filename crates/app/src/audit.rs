//! The audit trail: one structured event (`target = "audit"`) for every change a caller makes —
//! create, update, delete, cancel — with the user, the object type and its id.
//!
//! Recorded once, from the answered request, so no handler can forget it: a successful `POST` to
//! a collection is a create (the id is the new object's, from `Location`), `PATCH` an update,
//! `DELETE` a delete, `POST …/cancel` a cancel, `POST /experiments/{id}/runs` the creation of a run.

use actix_web::dev::ServiceResponse;
use actix_web::http::Method;
use actix_web::http::header::LOCATION;

/// A change, as the audit trail names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// `create`, `update`, `delete` or `cancel`.
    pub action: &'static str,
    /// `connection`, `storage`, `dataset`, `experiment`, `run`, or `api_key`.
    pub object: &'static str,
    /// The object's id.
    pub id: String,
}

/// The object type of a collection path segment.
fn object(collection: &str) -> Option<&'static str> {
    match collection {
        "connections" => Some("connection"),
        "storage" => Some("storage"),
        "datasets" => Some("dataset"),
        "experiments" => Some("experiment"),
        "runs" => Some("run"),
        _ => None,
    }
}

/// The change a request made, if it made one: `path` is the request path, `location` the
/// answer's `Location` header.
pub fn event(method: &Method, path: &str, location: Option<&str>) -> Option<AuditEvent> {
    let segments: Vec<&str> = path.trim_end_matches('/').strip_prefix("/api/v1/")?.split('/').collect();
    let created = || location.and_then(|location| location.rsplit('/').next()).map(str::to_owned);
    let (action, object, id) = match (method.as_str(), segments.as_slice()) {
        ("POST", [collection]) => ("create", object(collection)?, created()?),
        ("POST", ["experiments", _, "runs"]) => ("create", "run", created()?),
        ("POST", ["runs", id, "cancel"]) => ("cancel", "run", (*id).to_owned()),
        ("PATCH", [collection, id]) => ("update", object(collection)?, (*id).to_owned()),
        ("DELETE", [collection, id]) => ("delete", object(collection)?, (*id).to_owned()),
        _ => return None,
    };
    Some(AuditEvent { action, object, id })
}

/// Records the change `response` answers, when it succeeded.
pub fn record(response: &ServiceResponse, user: &str) {
    if !response.status().is_success() {
        return;
    }
    let location = response.headers().get(LOCATION).and_then(|value| value.to_str().ok());
    let request = response.request();
    if let Some(event) = event(request.method(), request.path(), location) {
        tracing::info!(target: "audit", user, action = event.action, object = event.object, id = %event.id, "audit");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audited(method: Method, path: &str, location: Option<&str>) -> Option<(&'static str, &'static str, String)> {
        event(&method, path, location).map(|event| (event.action, event.object, event.id))
    }

    #[test]
    fn every_change_is_named_and_reads_are_not() {
        let created = Some("/api/v1/datasets/d-1");
        assert_eq!(audited(Method::POST, "/api/v1/datasets", created), Some(("create", "dataset", "d-1".into())));
        assert_eq!(
            audited(Method::POST, "/api/v1/experiments/e-1/runs", Some("/api/v1/runs/r-1")),
            Some(("create", "run", "r-1".into()))
        );
        assert_eq!(audited(Method::POST, "/api/v1/runs/r-1/cancel", None), Some(("cancel", "run", "r-1".into())));
        assert_eq!(audited(Method::PATCH, "/api/v1/storage/s-1", None), Some(("update", "storage", "s-1".into())));
        assert_eq!(
            audited(Method::DELETE, "/api/v1/connections/c-1", None),
            Some(("delete", "connection", "c-1".into()))
        );
        assert_eq!(audited(Method::GET, "/api/v1/datasets/d-1", None), None);
        assert_eq!(audited(Method::POST, "/api/v1/experiments/validate", None), None, "a dry run changes nothing");
        assert_eq!(audited(Method::POST, "/api/v1/datasets/d-1/inspect", None), None);
    }
}
