//! Storing a run's results: `<root>/<run_id>/result.json` and `queries.parquet`.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, ListBuilder, StringArray, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use futures::StreamExt;
use object_store::path::Path;
use object_store::signer::{Method, Signer};
use object_store::{Attribute, Attributes, GetResult, ObjectStoreExt, PutOptions, PutPayload};
use qbench_storage::{Artifact, ArtifactChunks, QueryRecord, StorageError, StoredResult};

use crate::config::ResultsLocation;
use crate::error;
use crate::location::{self, Location, StoreKind, Target};
use crate::roots::DataRoots;
use crate::stores;
use crate::write::{self, WRITE_BATCH_ROWS};

/// The largest artifact read into memory to be served.
const MAX_ARTIFACT_BYTES: u64 = 512 << 20;

/// A signer of GET URLs for the results location, when it is on S3 with credentials.
pub(crate) fn signer(config: &ResultsLocation) -> Result<Option<Arc<dyn Signer>>, StorageError> {
    match config {
        ResultsLocation::Local(_) => Ok(None),
        ResultsLocation::S3 { uri, credentials } => {
            let (bucket, _) = location::split_s3(uri)?;
            stores::s3_signer(bucket, credentials, uri)
        }
    }
}

/// The configured results location, as a prefix to write under.
pub(crate) fn location(config: &ResultsLocation) -> Result<Location, StorageError> {
    match config {
        ResultsLocation::Local(dir) => {
            let absolute = std::path::absolute(dir).map_err(|error| StorageError::Refused {
                location: dir.display().to_string(),
                reason: format!("cannot make the results directory absolute: {error}"),
            })?;
            let path = location::object_path(dir, &absolute)?;
            Ok(Location {
                store: stores::local(),
                kind: StoreKind::Local(DataRoots::new(vec![absolute.clone()])),
                target: Target::Prefix { path, explicit: true },
                uri: format!("file://{}", absolute.display()),
            })
        }
        ResultsLocation::S3 { uri, credentials } => location::s3_prefix(uri, Some(credentials)),
    }
}

/// Writes `queries.parquet`, then `result.json` (so a present summary means a complete run).
///
/// Errors: `Refused` for a run id that is not a single plain path segment; store errors.
pub(crate) async fn write(
    location: &Location,
    run_id: &str,
    result: &serde_json::Value,
    queries: &[QueryRecord],
) -> Result<StoredResult, StorageError> {
    let folder = run_folder(location, run_id)?;
    let queries_path = folder.clone().join(Artifact::QueriesParquet.file_name());
    let queries_uri = location.kind.uri(&queries_path);
    query_rows(location, &queries_path, &queries_uri, queries).await?;

    let result_path = folder.join(Artifact::ResultJson.file_name());
    let result_uri = location.kind.uri(&result_path);
    let body = serde_json::to_vec_pretty(result)
        .map_err(|error| StorageError::Internal(format!("{result_uri}: encoding the result: {error}")))?;
    location
        .store
        .put(&result_path, PutPayload::from(body))
        .await
        .map_err(|error| error::from_store(&result_uri, &error))?;
    Ok(StoredResult { result_json: result_uri, queries_parquet: queries_uri })
}

/// The folder of run `run_id` under the results location.
///
/// Errors: `Refused` for a run id that is not a single plain path segment.
fn run_folder(location: &Location, run_id: &str) -> Result<Path, StorageError> {
    if !location::is_plain_segment(run_id) {
        return Err(StorageError::Refused {
            location: location.uri.clone(),
            reason: format!("`{}` is not usable as a folder name", run_id.escape_debug()),
        });
    }
    let Target::Prefix { path: root, .. } = &location.target else {
        return Err(StorageError::Internal(format!("{}: not a directory of results", location.uri)));
    };
    Ok(root.clone().join(run_id))
}

/// Writes `body` as `artifact` in the folder `folder` of the results.
pub(crate) async fn write_artifact(
    location: &Location,
    folder: &str,
    artifact: Artifact,
    body: Vec<u8>,
) -> Result<String, StorageError> {
    let path = run_folder(location, folder)?.join(artifact.file_name());
    let uri = location.kind.uri(&path);
    // On S3 the object carries its media type, so that a presigned URL to a report opens as a page;
    // the local file system keeps no attributes (qbench serves those with the type itself).
    let attributes = match &location.kind {
        StoreKind::S3 { .. } => Attributes::from_iter([(Attribute::ContentType, artifact.media_type())]),
        StoreKind::Http { .. } | StoreKind::Local(_) => Attributes::new(),
    };
    let options = PutOptions { attributes, ..PutOptions::default() };
    location
        .store
        .put_opts(&path, PutPayload::from(body), options)
        .await
        .map_err(|error| error::from_store(&uri, &error))?;
    Ok(uri)
}

/// The bytes of `artifact` of run `run_id`.
pub(crate) async fn read(location: &Location, run_id: &str, artifact: Artifact) -> Result<Vec<u8>, StorageError> {
    let path = run_folder(location, run_id)?.join(artifact.file_name());
    let uri = location.kind.uri(&path);
    let found = location.store.get(&path).await.map_err(|error| error::from_store(&uri, &error))?;
    if found.meta.size > MAX_ARTIFACT_BYTES {
        return Err(StorageError::Refused {
            location: uri,
            reason: format!("{} bytes is more than the {MAX_ARTIFACT_BYTES} served", found.meta.size),
        });
    }
    let bytes = found.bytes().await.map_err(|error| error::from_store(&uri, &error))?;
    Ok(bytes.to_vec())
}

/// Deletes run `run_id`'s folder and everything in it; `Ok` when there is none.
///
/// A local folder is removed with the file system's own calls, which never follow a symbolic
/// link (a link named like the folder is removed itself, not what it points at); the store's
/// listing follows links, so it could reach files outside the results. On S3 every object under
/// the folder's prefix is listed, then deleted.
pub(crate) async fn delete(location: &Location, run_id: &str) -> Result<(), StorageError> {
    let folder = run_folder(location, run_id)?;
    match &location.kind {
        StoreKind::Local(_) => {
            let shown = location.kind.shown(&folder);
            let path = std::path::PathBuf::from(format!("/{folder}"));
            location::blocking(move || {
                remove_local_folder(&path).map_err(|failure| crate::archive::from_io(&shown, &failure))
            })
            .await?
        }
        StoreKind::S3 { .. } | StoreKind::Http { .. } => {
            let listed: Vec<_> = location.store.list(Some(&folder)).collect().await;
            for object in listed {
                let object = object.map_err(|error| error::from_store(&location.kind.uri(&folder), &error))?;
                let uri = location.kind.uri(&object.location);
                match location.store.delete(&object.location).await {
                    Ok(()) => {}
                    Err(failure) => match error::from_store(&uri, &failure) {
                        // Deleted meanwhile: what was wanted.
                        StorageError::NotFound { .. } => {}
                        other @ (StorageError::Refused { .. }
                        | StorageError::Unreachable { .. }
                        | StorageError::Format { .. }
                        | StorageError::Internal(_)) => return Err(other),
                    },
                }
            }
            Ok(())
        }
    }
}

/// Removes `path`: a directory with its contents, or a link or file itself; nothing when absent.
fn remove_local_folder(path: &std::path::Path) -> std::io::Result<()> {
    let removed = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(failure) => Err(failure),
    };
    match removed {
        Err(failure) if failure.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// `artifact` of `folder`, streamed from the store one piece at a time.
pub(crate) async fn open(
    location: &Location,
    folder: &str,
    artifact: Artifact,
) -> Result<Box<dyn ArtifactChunks>, StorageError> {
    let path = run_folder(location, folder)?.join(artifact.file_name());
    let uri = location.kind.uri(&path);
    let found = location.store.get(&path).await.map_err(|error| error::from_store(&uri, &error))?;
    Ok(chunks(found, uri))
}

/// The object `found` (named `uri` in messages) as the pieces the store sends.
pub(crate) fn chunks(found: GetResult, uri: String) -> Box<dyn ArtifactChunks> {
    Box::new(StoredChunks { size: found.meta.size, stream: found.into_stream(), uri })
}

/// An object's pieces as the store sends them.
struct StoredChunks {
    size: u64,
    stream: futures::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
    uri: String,
}

#[async_trait::async_trait]
impl ArtifactChunks for StoredChunks {
    fn size(&self) -> u64 {
        self.size
    }

    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, StorageError> {
        match self.stream.next().await {
            Some(Ok(bytes)) => Ok(Some(bytes.to_vec())),
            Some(Err(error)) => Err(error::from_store(&self.uri, &error)),
            None => Ok(None),
        }
    }
}

/// A GET URL of `artifact` of run `run_id` signed by `signer` for `expires_in`.
pub(crate) async fn presign(
    location: &Location,
    signer: &dyn Signer,
    run_id: &str,
    artifact: Artifact,
    expires_in: std::time::Duration,
) -> Result<String, StorageError> {
    let path = run_folder(location, run_id)?.join(artifact.file_name());
    let uri = location.kind.uri(&path);
    let url =
        signer.signed_url(Method::GET, &path, expires_in).await.map_err(|error| error::from_store(&uri, &error))?;
    Ok(url.to_string())
}

/// Writes the per-query rows.
async fn query_rows(location: &Location, path: &Path, uri: &str, queries: &[QueryRecord]) -> Result<(), StorageError> {
    let returned = Field::new_list_field(DataType::Utf8, true);
    let schema = Arc::new(Schema::new(vec![
        Field::new("vector", DataType::Utf8, false),
        Field::new("setting", DataType::Utf8, false),
        Field::new("query_id", DataType::Utf8, false),
        Field::new("latency_seconds", DataType::Float64, false),
        Field::new("server_seconds", DataType::Float64, true),
        Field::new("precision", DataType::Float64, false),
        Field::new("recall", DataType::Float64, false),
        Field::new("f1", DataType::Float64, false),
        Field::new("returned_ids", DataType::List(Arc::new(returned.clone())), false),
        Field::new("true_ids", DataType::List(Arc::new(returned)), false),
    ]));
    let batches = queries.chunks(WRITE_BATCH_ROWS).map(|chunk| {
        let text = |get: fn(&QueryRecord) -> &str| -> ArrayRef {
            Arc::new(chunk.iter().map(|q| Some(get(q))).collect::<StringArray>())
        };
        let number = |get: fn(&QueryRecord) -> Option<f64>| -> ArrayRef {
            Arc::new(chunk.iter().map(get).collect::<Float64Array>())
        };
        let id_lists = |get: fn(&QueryRecord) -> &[String]| -> ArrayRef {
            let mut lists = ListBuilder::new(StringBuilder::new());
            for query in chunk {
                get(query).iter().for_each(|id| lists.values().append_value(id));
                lists.append(true);
            }
            Arc::new(lists.finish())
        };
        let columns: Vec<ArrayRef> = vec![
            text(|q| &q.vector),
            text(|q| &q.setting),
            text(|q| &q.query_id),
            number(|q| Some(q.latency_seconds)),
            number(|q| q.server_seconds),
            number(|q| Some(q.precision)),
            number(|q| Some(q.recall)),
            number(|q| Some(q.f1)),
            id_lists(|q| &q.returned_ids),
            id_lists(|q| &q.true_ids),
        ];
        RecordBatch::try_new(Arc::clone(&schema), columns)
            .map_err(|error| StorageError::Internal(format!("{uri}: building rows: {error}")))
    });
    write::parquet_file(&location.store, path, uri, schema.clone(), batches).await
}
