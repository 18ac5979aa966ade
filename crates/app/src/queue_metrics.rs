//! The job queue as Prometheus gauges, read from the database when `/metrics` is scraped.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

/// The workers `qbench_jobs_running` has shown, so that an idle one is set back to 0.
static REPORTED_WORKERS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Sets the queue gauges from `stats`: jobs by kind and status (zero included, so a drained queue
/// reads 0 rather than its last value), the age of the oldest waiting job (0 when none waits),
/// and running jobs per worker.
pub fn record(stats: &qbench_repository::QueueStats) {
    for kind in qbench_domain::JobKind::ALL {
        for status in qbench_domain::JobStatus::ALL {
            let count =
                stats.counts.iter().find(|(k, s, _)| *k == kind && *s == status).map_or(0, |(_, _, count)| *count);
            metrics::gauge!("qbench_jobs", "kind" => kind.as_str(), "status" => status.as_str()).set(count as f64);
        }
    }
    let age = stats.oldest_waiting.map_or(0.0, |oldest| (stats.now - oldest).as_seconds_f64().max(0.0));
    metrics::gauge!("qbench_job_queue_age_seconds").set(age);
    // A worker that ran jobs at an earlier scrape and runs none now reads 0, not its last count.
    let mut reported = REPORTED_WORKERS.lock().unwrap_or_else(PoisonError::into_inner);
    for worker in reported.iter() {
        if !stats.running_by_worker.iter().any(|(running, _)| running == worker) {
            metrics::gauge!("qbench_jobs_running", "worker" => worker.clone()).set(0.0);
        }
    }
    for (worker, running) in &stats.running_by_worker {
        metrics::gauge!("qbench_jobs_running", "worker" => worker.clone()).set(*running as f64);
        reported.insert(worker.clone());
    }
}

/// Records how long `job` took, from its first start to its end (or to its pause or hand-back),
/// in `qbench_job_duration_seconds{kind,status}`.
pub fn record_end(job: &qbench_domain::Job) {
    let (Some(start), end) = (job.start_time(), job.end_time().unwrap_or_else(|| job.updated_at())) else { return };
    let seconds = (end - start).as_seconds_f64().max(0.0);
    metrics::histogram!("qbench_job_duration_seconds", "kind" => job.kind().as_str(), "status" => job.status().as_str())
        .record(seconds);
}

#[cfg(test)]
mod tests {
    use metrics_exporter_prometheus::PrometheusBuilder;
    use qbench_repository::QueueStats;

    use super::*;

    fn running(workers: &[(&str, u64)]) -> QueueStats {
        QueueStats {
            running_by_worker: workers.iter().map(|(worker, count)| ((*worker).to_owned(), *count)).collect(),
            ..QueueStats::default()
        }
    }

    #[test]
    fn a_worker_that_ran_jobs_reads_zero_once_it_runs_none() {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            record(&running(&[("host-a-1", 2), ("host-b-7", 1)]));
            record(&running(&[("host-b-7", 1)]));
        });
        let text = handle.render();
        assert!(text.contains("qbench_jobs_running{worker=\"host-a-1\"} 0"), "{text}");
        assert!(text.contains("qbench_jobs_running{worker=\"host-b-7\"} 1"), "{text}");
        assert!(text.contains("qbench_jobs{kind=\"benchmark\",status=\"CREATED\"} 0"), "{text}");
    }
}
