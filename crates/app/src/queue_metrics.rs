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
