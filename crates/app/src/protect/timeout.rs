//! A deadline for every request: a handler still running after `server.request_timeout_seconds`
//! is abandoned and the request answered 504.

use std::time::Duration;

use actix_web::Error;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web::Data;

use crate::api::problem::{ApiError, ProblemKind};

/// How long a request may take.
#[derive(Debug, Clone, Copy)]
pub struct RequestTimeout(pub Duration);

/// Answers 504 problem+json when the rest of the chain takes longer than the app's
/// [`RequestTimeout`]. The request is owned by the abandoned handler, so the answer is returned as
/// an error, which actix renders through [`ApiError`]'s problem document.
pub async fn deadline(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limit = req.app_data::<Data<RequestTimeout>>().map_or(Duration::from_secs(60), |timeout| timeout.0);
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(answered) => answered.map(ServiceResponse::map_into_boxed_body),
        Err(_) => {
            let detail = format!("the request took longer than {} s", limit.as_secs());
            Err(ApiError::new(ProblemKind::Timeout, detail).into())
        }
    }
}
