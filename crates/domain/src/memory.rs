//! How much memory building a collection takes, estimated before any of it is spent.
//!
//! The figures follow how Qdrant lays a collection out: the original vectors as `f32`, the HNSW
//! graph as `u32` links (`2 × m` per point on level 0, about `m / (m − 1)` more on the upper
//! levels, and a second copy while the graph builder holds its candidate lists), the quantized
//! copy, and a fixed cost per point (ids, versions, offsets). It is an upper-side estimate meant
//! to refuse settings that cannot fit, not a prediction of the resident size.

use std::fmt;

use crate::{ProductCompression, Quantization};

/// Bytes of bookkeeping per point besides its vectors: external and internal ids, version,
/// deletion flag and the id tracker's maps.
const PER_POINT_BYTES: u64 = 64;

/// What one vector of a collection needs for the estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VectorFootprint {
    /// Its dimension.
    pub dim: u32,
    /// HNSW edges per node; 0 when no graph is built.
    pub m: u32,
}

/// The estimated memory of one collection build, by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct MemoryEstimate {
    /// Original vectors, as `f32`.
    pub vectors_bytes: u64,
    /// HNSW graph links, with the builder's working copy.
    pub graph_bytes: u64,
    /// Quantized vectors.
    pub quantized_bytes: u64,
    /// Per-point bookkeeping.
    pub points_bytes: u64,
    /// The test queries and their ground truth, held by qbench during the run.
    pub queries_bytes: u64,
}

impl MemoryEstimate {
    /// The estimate for `points` points with these vectors and quantization, and `queries`
    /// queries of `k` results each. Saturates instead of overflowing.
    pub fn for_collection(
        points: u64,
        vectors: &[VectorFootprint],
        quantization: Option<&Quantization>,
        queries: u64,
        k: u32,
    ) -> Self {
        let mut estimate = Self { points_bytes: points.saturating_mul(PER_POINT_BYTES), ..Self::default() };
        for vector in vectors {
            let dim = u64::from(vector.dim);
            let raw = points.saturating_mul(dim).saturating_mul(4);
            estimate.vectors_bytes = estimate.vectors_bytes.saturating_add(raw);
            estimate.graph_bytes = estimate.graph_bytes.saturating_add(graph_bytes(points, vector.m));
            estimate.quantized_bytes =
                estimate.quantized_bytes.saturating_add(quantized_bytes(points, dim, quantization));
            let query_bytes = queries.saturating_mul(dim.saturating_mul(4).saturating_add(u64::from(k) * 8));
            estimate.queries_bytes = estimate.queries_bytes.saturating_add(query_bytes);
        }
        estimate
    }

    /// The whole estimate.
    pub fn total(&self) -> u64 {
        self.vectors_bytes
            .saturating_add(self.graph_bytes)
            .saturating_add(self.quantized_bytes)
            .saturating_add(self.points_bytes)
            .saturating_add(self.queries_bytes)
    }
}

impl fmt::Display for MemoryEstimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (vectors {}, graph {}, quantized {}, points {}, queries {})",
            Bytes(self.total()),
            Bytes(self.vectors_bytes),
            Bytes(self.graph_bytes),
            Bytes(self.quantized_bytes),
            Bytes(self.points_bytes),
            Bytes(self.queries_bytes)
        )
    }
}

/// Links of a graph with `m` edges per node: `2m` on level 0, `m` on each upper level a point
/// reaches (a geometric series with ratio `1/m`), twice over while the builder runs.
fn graph_bytes(points: u64, m: u32) -> u64 {
    if m == 0 {
        return 0;
    }
    let m = u64::from(m);
    let upper = m.div_ceil(m.saturating_sub(1).max(1));
    let links_per_point = 2 * m + upper + 1;
    points.saturating_mul(links_per_point).saturating_mul(4).saturating_mul(2)
}

fn quantized_bytes(points: u64, dim: u64, quantization: Option<&Quantization>) -> u64 {
    let per_point = match quantization {
        None => 0,
        Some(Quantization::Scalar { .. }) => dim,
        Some(Quantization::Binary { .. }) => dim.div_ceil(8),
        Some(Quantization::Product { compression, .. }) => {
            let ratio = match compression {
                ProductCompression::X4 => 4,
                ProductCompression::X8 => 8,
                ProductCompression::X16 => 16,
                ProductCompression::X32 => 32,
                ProductCompression::X64 => 64,
            };
            (dim * 4).div_ceil(ratio)
        }
    };
    points.saturating_mul(per_point)
}

/// A byte count for people: `1.5 GiB`, `12.0 MiB`, `512 B`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut value = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        write!(f, "{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScalarType;

    #[test]
    fn a_million_768_dim_vectors_with_m_16_need_a_few_gigabytes() {
        let estimate =
            MemoryEstimate::for_collection(1_000_000, &[VectorFootprint { dim: 768, m: 16 }], None, 1_000, 10);
        assert_eq!(estimate.vectors_bytes, 3_072_000_000);
        // 2·16 + 2 + 1 = 35 links of 4 bytes, twice: 280 bytes per point.
        assert_eq!(estimate.graph_bytes, 280_000_000);
        assert_eq!(estimate.quantized_bytes, 0);
        assert!((3_000_000_000..4_000_000_000).contains(&estimate.total()), "{estimate}");
    }

    #[test]
    fn huge_m_is_estimated_not_overflowed() {
        let estimate =
            MemoryEstimate::for_collection(u64::MAX / 2, &[VectorFootprint { dim: 65_536, m: u32::MAX }], None, 0, 1);
        assert_eq!(estimate.total(), u64::MAX);
    }

    #[test]
    fn quantization_adds_its_compressed_copy() {
        let vectors = [VectorFootprint { dim: 128, m: 0 }];
        let scalar = Quantization::Scalar { scalar_type: ScalarType::Int8, quantile: None, always_ram: None };
        let binary = Quantization::Binary { always_ram: None };
        let product = Quantization::Product { compression: ProductCompression::X16, always_ram: None };
        let quantized =
            |q: &Quantization| MemoryEstimate::for_collection(1_000, &vectors, Some(q), 0, 10).quantized_bytes;
        assert_eq!(quantized(&scalar), 128_000);
        assert_eq!(quantized(&binary), 16_000);
        assert_eq!(quantized(&product), 32_000);
        assert_eq!(MemoryEstimate::for_collection(1_000, &vectors, None, 0, 10).graph_bytes, 0);
    }

    #[test]
    fn bytes_read_in_binary_units() {
        assert_eq!(Bytes(512).to_string(), "512 B");
        assert_eq!(Bytes(3 * 1024 * 1024 / 2).to_string(), "1.5 MiB");
        assert_eq!(Bytes(34_359_738_360).to_string(), "32.0 GiB");
    }
}
