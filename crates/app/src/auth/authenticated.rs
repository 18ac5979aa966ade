//! The [`Authenticated`] extractor: the caller the middleware identified.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use apistos::ApiComponent;
use apistos::reference_or::ReferenceOr;
use qbench_domain::Caller;

use crate::api::problem::{ApiError, ProblemKind};

/// The caller of a request, as the [`authenticate`](super::authenticate) middleware identified it.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Caller);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        // Without the middleware's verdict nobody is trusted: a route outside its scope cannot
        // take a caller by mistake.
        let caller = req.extensions().get::<Caller>().cloned();
        ready(
            caller
                .map(Authenticated)
                .ok_or_else(|| ApiError::new(ProblemKind::Unauthorized, "authentication required")),
        )
    }
}

impl ApiComponent for Authenticated {
    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        Vec::new()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        None
    }
}
