//! `GET /api/v1/artifacts/{run_id}/{file}`: a run's (or a report job's) artifact behind a URL
//! qbench signed (see [`crate::artifact_urls`]), for results kept in a local directory. No
//! credential: the signature is one. And [`signed_url`], which hands such URLs out.

use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse};
use apistos::{ApiComponent, api_operation};
use chrono::{DateTime, Utc};
use qbench_storage::{Artifact, ArtifactChunks, StorageError};
use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

use crate::api::problem::{ApiError, ProblemKind};
use crate::api::query::QueryParams;
use crate::state::{AppState, Artifacts};

/// Which artifact of which run.
#[derive(Debug, Clone, Deserialize, JsonSchema, ApiComponent)]
pub struct ArtifactPath {
    /// The run's UUID (or the report job's, for `report.html`).
    #[schemars(regex(pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"))]
    pub run_id: String,
    /// `result.json`, `queries.parquet`, `log.jsonl` or `report.html`.
    #[schemars(regex(pattern = r"^(result\.json|queries\.parquet|log\.jsonl|report\.html)$"))]
    pub file: String,
}

/// The signature of the URL.
#[derive(Debug, Clone, Deserialize, JsonSchema, ApiComponent)]
pub struct SignedQuery {
    /// When the URL expires, in seconds since the epoch.
    #[schemars(range(min = 0))]
    pub expires: i64,
    /// HMAC-SHA256 of run, file and expiry, in hex.
    #[schemars(regex(pattern = r"^[0-9a-f]{64}$"))]
    pub signature: String,
}

#[api_operation(
    operation_id = "get_artifact",
    tag = "runs",
    summary = "A run's artifact behind a signed URL",
    description = "The URLs come from `GET /api/v1/runs/{id}/result` (`artifacts`), for results kept in a local directory; results on S3 get the storage's own presigned URLs instead. Needs no credential: the signature is one. 403 when the URL has expired or was altered, 404 when the run stored no such file.",
    produces = "application/octet-stream",
    error_code = 400,
    error_code = 403,
    error_code = 404,
    error_code = 500,
    error_code = 503
)]
pub(crate) async fn get(
    state: Data<AppState>,
    path: Path<ArtifactPath>,
    query: QueryParams<SignedQuery>,
) -> Result<HttpResponse, ApiError> {
    let Some(artifacts) = &state.artifacts else {
        return Err(ApiError::new(ProblemKind::Unavailable, "this server keeps no run artifacts"));
    };
    let run_id = Uuid::parse_str(&path.run_id)
        .map_err(|_| ApiError::bad_parameter("run_id", format!("`{}` is not a UUID", path.run_id)))?
        .to_string();
    let artifact = Artifact::from_file_name(&path.file)
        .ok_or_else(|| ApiError::new(ProblemKind::NotFound, format!("runs store no `{}`", path.file)))?;
    artifacts
        .urls
        .verify(&run_id, artifact, query.expires, &query.signature, artifacts.clock.now())
        .map_err(|refused| ApiError::new(ProblemKind::Forbidden, refused.to_string()))?;
    let chunks = artifacts.results.open_artifact(&run_id, artifact).await.map_err(|error| match error {
        StorageError::NotFound { .. } => {
            ApiError::new(ProblemKind::NotFound, format!("run {run_id} stored no {}", artifact.file_name()))
        }
        other @ (StorageError::Refused { .. }
        | StorageError::Unreachable { .. }
        | StorageError::Format { .. }
        | StorageError::Internal(_)) => ApiError::new(ProblemKind::Internal, other.to_string()),
    })?;
    let mut response = HttpResponse::Ok();
    response.content_type(artifact.media_type());
    if artifact == Artifact::Report {
        // The page is qbench's own, escaped; still, it may run nothing and load nothing.
        response.insert_header(("Content-Security-Policy", REPORT_POLICY));
    }
    response.no_chunking(chunks.size());
    Ok(response.streaming(pieces(chunks)))
}

/// The artifact's pieces as a response body: served in bounded memory whatever its size; a piece
/// the store fails to send ends the body (the client sees a short read against `Content-Length`).
fn pieces(
    chunks: Box<dyn ArtifactChunks>,
) -> impl futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::Error>> {
    futures_util::stream::unfold(Some(chunks), |state| async move {
        let mut chunks = state?;
        match chunks.next_chunk().await {
            Ok(Some(piece)) => Some((Ok(actix_web::web::Bytes::from(piece)), Some(chunks))),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(%error, "an artifact stopped streaming");
                Some((Err(actix_web::error::ErrorInternalServerError(error.to_string())), None))
            }
        }
    })
}

/// What a report page may use: its inline style and nothing else.
pub(crate) const REPORT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// A URL to `artifact` in `folder` (a run's id, or a report job's) and when it expires: presigned
/// by the storage when it can, else signed by this server and pointing at it (the scheme and host
/// the request came to).
pub(crate) async fn signed_url(
    artifacts: &Artifacts,
    folder: &str,
    artifact: Artifact,
    request: &HttpRequest,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let lifetime = artifacts.urls.lifetime;
    let expires_at = artifacts.clock.now() + chrono::Duration::from_std(lifetime).unwrap_or_default();
    let presigned = artifacts
        .results
        .presigned_url(folder, artifact, lifetime)
        .await
        .map_err(|error| ApiError::new(ProblemKind::Internal, error.to_string()))?;
    let url = presigned.unwrap_or_else(|| {
        let info = request.connection_info();
        format!("{}://{}{}", info.scheme(), info.host(), artifacts.urls.path(folder, artifact, expires_at.timestamp()))
    });
    Ok((url, expires_at))
}
