//! Where a job is in its life, and the only moves between statuses.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum JobStatus {
    /// Stored and queued, waiting for a worker.
    Created,
    /// Held by a worker under a lease.
    Running,
    /// Stopped at a safe point on request; resumes from its progress.
    Paused,
    /// Finished with its result.
    Completed,
    /// Stopped by an error, recorded in `error`.
    Failed,
    /// Stopped on request.
    Canceled,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [JobStatus; 6] =
        [Self::Created, Self::Running, Self::Paused, Self::Completed, Self::Failed, Self::Canceled];

    /// The wire name (`CREATED`, `RUNNING`, `PAUSED`, `COMPLETED`, `FAILED`, `CANCELED`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Running => "RUNNING",
            Self::Paused => "PAUSED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
            Self::Canceled => "CANCELED",
        }
    }

    /// Whether the job has ended and can no longer change.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }

    /// Whether a job may move from `self` to `next`. `RUNNING → CREATED` hands a job whose worker
    /// was lost back to the queue (resumable kinds only, checked by [`crate::Job`]); `PAUSED →
    /// CREATED` is a resume.
    pub fn can_become(self, next: JobStatus) -> bool {
        use JobStatus::*;
        matches!(
            (self, next),
            (Created, Running | Paused | Failed | Canceled)
                | (Running, Completed | Failed | Canceled | Paused | Created)
                | (Paused, Created | Canceled)
        )
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|status| status.as_str().eq_ignore_ascii_case(s)).ok_or_else(|| {
            DomainError::invalid(
                "status",
                format!("unknown status `{s}`; expected one of CREATED, RUNNING, PAUSED, COMPLETED, FAILED, CANCELED"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_life_cycle_transitions_are_allowed() {
        use JobStatus::*;
        let allowed = [
            (Created, Running),
            (Created, Paused),
            (Created, Failed),
            (Created, Canceled),
            (Running, Completed),
            (Running, Failed),
            (Running, Canceled),
            (Running, Paused),
            (Running, Created),
            (Paused, Created),
            (Paused, Canceled),
        ];
        for from in JobStatus::ALL {
            for to in JobStatus::ALL {
                assert_eq!(from.can_become(to), allowed.contains(&(from, to)), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn statuses_parse_from_their_wire_names_only() {
        for status in JobStatus::ALL {
            assert_eq!(status.as_str().parse::<JobStatus>(), Ok(status));
        }
        assert_eq!("paused".parse::<JobStatus>(), Ok(JobStatus::Paused));
        assert!("DONE".parse::<JobStatus>().is_err());
    }
}
