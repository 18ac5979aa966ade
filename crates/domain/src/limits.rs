//! The ranges qbench accepts: Qdrant's own limits where it has them, and bounds of qbench's own
//! where Qdrant has none, so that no setting a caller controls can exhaust the machine.

use std::ops::RangeInclusive;

/// Accepted ranges, published by the capabilities endpoint so clients can check before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits;

impl Limits {
    /// Vector dimensions Qdrant accepts.
    pub const DIMENSION: RangeInclusive<u32> = 1..=65_536;
    /// Results per query (`k`, Qdrant's `limit`).
    pub const K: RangeInclusive<u32> = 1..=10_000;
    /// HNSW edges per node. Qdrant sets no maximum, but each point allocates `2 × m` links up front
    /// while the graph is built (`m` 4294967295 asked for 34 GB and aborted the process); 512 is
    /// far beyond any useful graph.
    pub const M: RangeInclusive<u32> = 0..=512;
    /// Neighbours considered while building. Qdrant's minimum is 4; build time grows with it, and
    /// past a few thousand nothing is gained.
    pub const EF_CONSTRUCT: RangeInclusive<u32> = 4..=4_096;
    /// Candidates searched per query (`hnsw_ef`); each value must also be at least `k`.
    pub const HNSW_EF: RangeInclusive<u32> = 1..=65_536;
    /// KB of vectors below which a segment is scanned rather than searched (Qdrant's minimum is 10).
    pub const FULL_SCAN_THRESHOLD: RangeInclusive<u32> = 10..=100_000_000;
    /// Smallest `ef_construct` Qdrant accepts.
    pub const MIN_EF_CONSTRUCT: u32 = *Self::EF_CONSTRUCT.start();
    /// Smallest `full_scan_threshold` Qdrant accepts (KB).
    pub const MIN_FULL_SCAN_THRESHOLD: u32 = *Self::FULL_SCAN_THRESHOLD.start();
    /// Concurrent search clients in one run.
    pub const PARALLEL: RangeInclusive<u32> = 1..=256;
    /// Test queries used by one run.
    pub const QUERIES_LIMIT: RangeInclusive<u32> = 1..=1_000_000;
    /// Points per upsert request.
    pub const UPLOAD_BATCH_SIZE: RangeInclusive<u32> = 1..=65_536;
    /// Seconds each search setting is measured for, at least, per repetition (the queries are
    /// cycled through until then).
    pub const SEARCH_SECONDS: RangeInclusive<f64> = 0.0..=600.0;
    /// Measured passes of each search setting.
    pub const REPETITIONS: RangeInclusive<u32> = 1..=20;
    /// Upsert requests in flight at once.
    pub const UPLOAD_PARALLEL: RangeInclusive<u32> = 1..=64;
    /// Work items a backfill loads at once (each streams its own row groups and upserts).
    pub const BACKFILL_PARALLEL: RangeInclusive<u32> = 1..=16;
    /// The share of train points a sampled run uploads: at least one in ten thousand.
    pub const SAMPLE_FRACTION: RangeInclusive<f64> = 0.0001..=1.0;
    /// Scalar quantization quantile.
    pub const QUANTILE: RangeInclusive<f64> = 0.5..=1.0;
    /// Oversampling factor of quantized search (1.0 means none): `oversampling × k` candidates
    /// are re-scored per query.
    pub const OVERSAMPLING: RangeInclusive<f64> = 1.0..=100.0;
    /// Longest name of a connection, storage, dataset, experiment, vector or scalar field.
    pub const NAME_LENGTH: usize = 255;
    /// Longest URL or URI in characters (connection and endpoint URLs, dataset sources).
    pub const URL_LENGTH: usize = 2_048;
    /// Longest credential in characters (API keys, access and secret keys).
    pub const SECRET_LENGTH: usize = 4_096;
    /// Longest region name.
    pub const REGION_LENGTH: usize = 64;
    /// Most scalar fields a dataset copies into payloads.
    pub const SCALAR_FIELDS: usize = 1_024;
}
