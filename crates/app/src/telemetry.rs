//! Structured logs: JSON lines (or pretty ones) through `tracing`.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::settings::{LogFormat, LogSettings};

/// Installs the global subscriber writing to `writer`; tests pass a sink to stay quiet or to
/// read the lines. A second call is ignored (the first subscriber stays).
pub fn init<W>(settings: &LogSettings, writer: W)
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    // The embedded engine logs harmless warnings at every start (feature flags, mmap checks); only
    // its errors are worth a line.
    let directives = format!("{},qdrant_edge=error", settings.level);
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info,qdrant_edge=error"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let result = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // An already-installed subscriber is fine: tests build many apps in one process.
    drop(result);
}
