//! The numeric ranges qbench accepts, mirroring what Qdrant accepts.

use std::ops::RangeInclusive;

/// Accepted ranges, published by the capabilities endpoint so clients can check before sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits;

impl Limits {
    /// Vector dimensions Qdrant accepts.
    pub const DIMENSION: RangeInclusive<u32> = 1..=65_536;
    /// Results per query (`k`, Qdrant's `limit`).
    pub const K: RangeInclusive<u32> = 1..=10_000;
    /// Smallest `ef_construct` Qdrant accepts.
    pub const MIN_EF_CONSTRUCT: u32 = 4;
    /// Smallest `full_scan_threshold` Qdrant accepts (KB).
    pub const MIN_FULL_SCAN_THRESHOLD: u32 = 10;
    /// Concurrent search clients in one run.
    pub const PARALLEL: RangeInclusive<u32> = 1..=256;
    /// Points per upsert request.
    pub const UPLOAD_BATCH_SIZE: RangeInclusive<u32> = 1..=65_536;
    /// Upsert requests in flight at once.
    pub const UPLOAD_PARALLEL: RangeInclusive<u32> = 1..=64;
    /// Scalar quantization quantile.
    pub const QUANTILE: RangeInclusive<f64> = 0.5..=1.0;
    /// Smallest oversampling factor (1.0 means none).
    pub const MIN_OVERSAMPLING: f64 = 1.0;
    /// Longest name of a connection, storage, dataset or experiment.
    pub const NAME_LENGTH: usize = 255;
}
