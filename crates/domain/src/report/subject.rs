//! What a report job renders: runs side by side, or a study — and the limits of what may be asked.

use crate::{JobId, RunId, Violation};

/// Runs a report may put side by side (its tables grow with each, its charts with every setting).
pub const MAX_REPORT_RUNS: usize = 20;

/// Characters of a report's title.
pub const MAX_REPORT_TITLE: usize = 200;

/// What a report renders.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportSubject {
    /// Completed runs, side by side, in this order.
    Runs(Vec<RunId>),
    /// A completed study.
    Study(JobId),
}

/// A `report` job's payload.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReportPayload {
    /// What to render.
    pub subject: ReportSubject,
    /// The page's title; `None` for one made of the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl ReportPayload {
    /// A report of `run_ids` or of `study_id` (exactly one of the two), titled `title`; every
    /// violation, named by its field, otherwise.
    pub fn new(
        run_ids: Option<Vec<RunId>>,
        study_id: Option<JobId>,
        title: Option<String>,
    ) -> Result<Self, Vec<Violation>> {
        let mut violations = Vec::new();
        if let Some(title) = &title
            && (title.trim().is_empty() || title.chars().count() > MAX_REPORT_TITLE)
        {
            violations.push(Violation::new("title", format!("must be 1 to {MAX_REPORT_TITLE} characters")));
        }
        let subject = match (run_ids, study_id) {
            (Some(run_ids), None) => {
                if run_ids.is_empty() || run_ids.len() > MAX_REPORT_RUNS {
                    violations.push(Violation::new(
                        "run_ids",
                        format!("{} runs; a report takes 1 to {MAX_REPORT_RUNS}", run_ids.len()),
                    ));
                }
                for (index, id) in run_ids.iter().enumerate() {
                    if run_ids[..index].contains(id) {
                        violations
                            .push(Violation::new(format!("run_ids[{index}]"), format!("run {id} is listed twice")));
                    }
                }
                Some(ReportSubject::Runs(run_ids))
            }
            (None, Some(study_id)) => Some(ReportSubject::Study(study_id)),
            (Some(_), Some(_)) => {
                violations.push(Violation::new("study_id", "give either run_ids or study_id, not both"));
                None
            }
            (None, None) => {
                violations.push(Violation::new("run_ids", "give the runs to report (run_ids) or a study (study_id)"));
                None
            }
        };
        match subject {
            Some(subject) if violations.is_empty() => Ok(Self { subject, title }),
            Some(_) | None => Err(violations),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_report_takes_runs_or_a_study_and_names_the_field_at_fault() {
        let run = RunId::new();
        let payload = ReportPayload::new(Some(vec![run]), None, None).unwrap();
        assert_eq!(payload.subject, ReportSubject::Runs(vec![run]));

        let field = |result: Result<ReportPayload, Vec<Violation>>| -> Vec<String> {
            result.unwrap_err().into_iter().map(|v| v.field).collect()
        };
        assert_eq!(field(ReportPayload::new(None, None, None)), ["run_ids"]);
        assert_eq!(field(ReportPayload::new(Some(vec![run]), Some(JobId::new()), None)), ["study_id"]);
        assert_eq!(field(ReportPayload::new(Some(vec![run, run]), None, None)), ["run_ids[1]"]);
        assert_eq!(field(ReportPayload::new(Some(vec![]), None, None)), ["run_ids"]);
        let many = (0..=MAX_REPORT_RUNS).map(|_| RunId::new()).collect();
        assert_eq!(field(ReportPayload::new(Some(many), None, None)), ["run_ids"]);
        assert_eq!(field(ReportPayload::new(None, Some(JobId::new()), Some(" ".into()))), ["title"]);
    }

    #[test]
    fn a_payload_reads_back_as_written() {
        let payload = ReportPayload::new(None, Some(JobId::new()), Some("Tuning".into())).unwrap();
        let again: ReportPayload = serde_json::from_value(serde_json::to_value(&payload).unwrap()).unwrap();
        assert_eq!(again, payload);
    }
}
