//! The time stamped on objects, from a clock that tests can set.

use std::fmt;
use std::sync::Mutex;
use std::sync::PoisonError;

use chrono::{DateTime, SubsecRound, Utc};

/// Where services and workers read the time, so tests of leases and expiry set it instead of
/// sleeping. Leases themselves are compared with the database's clock (`JobRepository::now`).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now, to the microsecond: the precision every supported database keeps, so an object
    /// answered on creation carries the same timestamps as the same object read back.
    fn now(&self) -> DateTime<Utc>;
}

/// The host's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(6)
    }
}

/// A clock that stands still until moved: for tests.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start.trunc_subsecs(6)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The host's clock, for code with no clock of its own injected.
pub(crate) fn now() -> DateTime<Utc> {
    SystemClock.now()
}
