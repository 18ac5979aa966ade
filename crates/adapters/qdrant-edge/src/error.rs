//! Translation of the engine's errors into the port's `VectorStoreError`: the only place that
//! knows `OperationError`.

use std::any::Any;

use qbench_vector_store::VectorStoreError;
use qdrant_edge::OperationError;
use tokio::task::JoinError;

/// Sorts an engine error: a request the engine refuses is `Rejected`, a failure of the engine
/// itself (storage, memory, cancellation) is `Internal`. Both keep the engine's message.
pub(crate) fn from_engine(err: OperationError) -> VectorStoreError {
    let message = err.to_string();
    match err {
        OperationError::WrongVectorDimension { .. }
        | OperationError::VectorNameNotExists { .. }
        | OperationError::PointIdError { .. }
        | OperationError::TypeError { .. }
        | OperationError::TypeInferenceError { .. }
        | OperationError::ValidationError { .. }
        | OperationError::WrongSparse
        | OperationError::WrongMulti
        | OperationError::MissingRangeIndexForOrderBy { .. }
        | OperationError::MissingMapIndexForFacet { .. }
        | OperationError::VariableTypeError { .. }
        | OperationError::NonFiniteNumber { .. } => VectorStoreError::Rejected(message),
        OperationError::ServiceError { .. }
        | OperationError::InconsistentStorage { .. }
        | OperationError::OutOfMemory { .. }
        | OperationError::Cancelled { .. }
        | OperationError::Timeout { .. } => VectorStoreError::Internal(message),
    }
}

/// A blocking task that did not finish: the engine panicked (it does on some misuse, for
/// example a flush during an update), or the runtime is shutting down.
pub(crate) fn from_join(err: JoinError) -> VectorStoreError {
    if err.is_panic() {
        VectorStoreError::Internal(format!("the embedded engine panicked: {}", panic_message(&err.into_panic())))
    } else {
        VectorStoreError::Internal("the embedded engine's task was cancelled".to_owned())
    }
}

/// A file-system failure around the engine (creating or deleting a collection's directory).
pub(crate) fn from_io(context: &str, err: &std::io::Error) -> VectorStoreError {
    VectorStoreError::Internal(format!("{context}: {err}"))
}

/// The text of a panic payload, when it carries one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "no message"
    }
}
