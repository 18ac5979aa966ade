//! The CLI's jobs besides serving: generating and inspecting datasets, benchmarking without the
//! server, managing API keys. Each prints one line and exits non-zero on error.

pub mod api_key;
pub mod bench;
pub mod compare;
mod flags;
pub mod generate;
pub mod inspect;
mod local;
mod scratch;
mod table;
pub mod tune;
pub mod vectors;

/// A command's failure: one line for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CommandError(pub String);

impl CommandError {
    /// A failure described by anything displayable.
    pub fn new(message: impl std::fmt::Display) -> Self {
        Self(message.to_string())
    }
}
