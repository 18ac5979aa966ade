//! Wire types: what the REST API reads and writes, with OpenAPI schemas and examples.
//!
//! Requests convert into domain types with `TryFrom`, returning *every* violation; responses are
//! built from domain types and never carry a secret in clear.

pub mod connection;
pub mod dataset;
pub mod experiment;
pub mod run;
pub mod storage;
pub mod vector;

use qbench_domain::{Secret, Violation, mask_secret};
use secrecy::ExposeSecret;

/// A secret field after a merge: a client that sends back the masked value it was shown
/// (`"****3y"`) keeps the stored secret instead of replacing it with the mask.
pub(crate) fn unmask(sent: Option<String>, stored: Option<&Secret>) -> Option<String> {
    match (sent, stored) {
        (Some(sent), Some(stored)) if sent == mask_secret(stored) => Some(stored.expose_secret().to_owned()),
        (sent, _) => sent,
    }
}

/// Collects violations while converting a request; `finish` turns them into a result.
#[derive(Debug, Default)]
pub struct Violations(Vec<Violation>);

impl Violations {
    /// Records the error of `result` under `field`, returning the value when there is one.
    pub fn check<T, E: std::fmt::Display>(&mut self, field: impl Into<String>, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                let message = match err.to_string().split_once(": ") {
                    // Domain errors render as `field: message`; the caller's path is more precise.
                    Some((_, message)) => message.to_owned(),
                    None => err.to_string(),
                };
                self.0.push(Violation::new(field, message));
                None
            }
        }
    }

    /// Records a violation.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(Violation::new(field, message));
    }

    /// `Ok(value)` when nothing was recorded, else every violation.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<Violation>> {
        match value {
            Some(value) if self.0.is_empty() => Ok(value),
            _ => Err(self.0),
        }
    }
}
