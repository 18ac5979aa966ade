//! The job queue as Prometheus gauges, read from the database when `/metrics` is scraped.

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
    for (worker, running) in &stats.running_by_worker {
        metrics::gauge!("qbench_jobs_running", "worker" => worker.clone()).set(*running as f64);
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
