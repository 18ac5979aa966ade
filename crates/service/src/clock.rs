//! The time stamped on objects.

use chrono::{DateTime, SubsecRound, Utc};

/// Now, to the microsecond: the precision every supported database keeps, so an object answered
/// on creation carries the same timestamps as the same object read back.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
