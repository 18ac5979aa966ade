//! What a job does, and what the job model may do with each kind.

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// What a job does. Each kind has one handler in the worker; claiming, leasing, heartbeat,
/// cancel and pause are the same for every kind and ask only the properties below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobKind {
    /// A benchmark run of an experiment (the job behind every `/runs` entry).
    Benchmark,
    /// Does nothing but report progress in steps: measures the queue itself and exercises pause
    /// and resume.
    Noop,
    /// A tuning study: builds each configuration of a search space as a trial run, measures it,
    /// and recommends the configuration to run.
    Study,
    /// Renders a report of stored results (runs side by side, or a study) as one page, stored
    /// beside them.
    Report,
    /// Archives a collection into a snapshot repository (streamed, checksummed).
    Snapshot,
    /// Restores a snapshot into a collection, after verifying its checksum.
    Restore,
    /// Loads a dataset into a named collection in work items, without benchmarking it.
    Backfill,
}

impl JobKind {
    /// Every kind.
    pub const ALL: [JobKind; 7] =
        [Self::Benchmark, Self::Noop, Self::Study, Self::Report, Self::Snapshot, Self::Restore, Self::Backfill];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Benchmark => "benchmark",
            Self::Noop => "noop",
            Self::Study => "study",
            Self::Report => "report",
            Self::Snapshot => "snapshot",
            Self::Restore => "restore",
            Self::Backfill => "backfill",
        }
    }

    /// Why a job of this kind cannot stop at a safe point and continue later; `None` when it can.
    /// A kind that can pause can also be handed back to the queue when its worker is lost.
    pub fn why_not_pausable(self) -> Option<&'static str> {
        match self {
            Self::Benchmark => Some(
                "a benchmark cannot pause: its index build and timed searches must run in one piece to mean anything; cancel it instead",
            ),
            Self::Study => Some("a study cannot pause yet: cancel it; the trials it finished are kept"),
            Self::Report => Some("a report renders in seconds: cancel it instead"),
            Self::Snapshot | Self::Restore => {
                Some("an archive is written or unpacked in one piece: cancel it instead (nothing partial is kept)")
            }
            // Between work items: each item is loaded whole or redone.
            Self::Noop | Self::Backfill => None,
        }
    }

    /// Whether a job of this kind can pause and resume from its progress.
    pub fn can_pause(self) -> bool {
        self.why_not_pausable().is_none()
    }

    /// Whether a worker runs jobs of this kind one at a time, alone among its kind: benchmarks,
    /// whose timings another benchmark on the same machine would distort.
    pub fn is_exclusive(self) -> bool {
        matches!(self, Self::Benchmark)
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s).ok_or_else(|| {
            DomainError::invalid(
                "kind",
                format!(
                    "unknown job kind `{s}`; expected benchmark, noop, study, report, snapshot, restore or backfill"
                ),
            )
        })
    }
}
