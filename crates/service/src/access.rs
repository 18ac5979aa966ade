//! The ownership rule shared by the services of owned objects (datasets, experiments, runs), and
//! the rule on which engine collections a caller may name.

use std::fmt::Display;

use qbench_domain::{Caller, Violation, is_qbench_collection};
use qbench_repository::Entity;

use crate::ServiceError;

/// `Ok` when `caller` sees an object of `owner`; otherwise exactly the `NotFound` a missing `id`
/// answers, so that nobody learns whether another user's object exists.
pub(crate) fn ensure_seen(caller: &Caller, owner: &str, entity: Entity, id: impl Display) -> Result<(), ServiceError> {
    if caller.sees(owner) { Ok(()) } else { Err(ServiceError::NotFound { entity, id: id.to_string() }) }
}

/// The owner a list is restricted to: the caller's own objects, or everyone's for an admin.
pub(crate) fn listed_owner(caller: &Caller) -> Option<&str> {
    if caller.is_admin() { None } else { Some(caller.user()) }
}

/// The owner a list asked with `all` is restricted to (viewer): the caller's own objects, or with
/// `all` every user's, which only an admin may ask (`Forbidden` for anyone else).
pub(crate) fn requested_owner(caller: &Caller, all: bool) -> Result<Option<String>, ServiceError> {
    caller.require(qbench_domain::Role::Viewer)?;
    if all {
        caller.require(qbench_domain::Role::Admin)?;
        Ok(None)
    } else {
        Ok(Some(caller.user().to_owned()))
    }
}

/// qbench touches only the collections it created (`qbench-…`) on its own authority; another needs
/// an admin naming it: `ForbiddenField` (403) naming `field` otherwise.
pub(crate) fn ensure_may_touch(caller: &Caller, field: &str, collection: &str) -> Result<(), ServiceError> {
    if is_qbench_collection(collection) || caller.is_admin() {
        return Ok(());
    }
    Err(ServiceError::ForbiddenField(Violation::new(
        field,
        format!(
            "`{collection}` was not created by qbench (its collections start with `qbench-`): only an admin may name it"
        ),
    )))
}
