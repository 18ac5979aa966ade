//! What a built collection occupies, as measured on the engine after indexing (not estimated):
//! per vector its original vectors, its index and its quantized data, in RAM and on disk.

use std::collections::BTreeMap;

/// Bytes one part of a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    /// Bytes the engine keeps in RAM (loaded, not memory-mapped on demand).
    pub ram_bytes: u64,
    /// Bytes on disk.
    pub disk_bytes: u64,
}

impl Usage {
    /// `bytes` on disk, also held in RAM when `in_ram`.
    pub fn of(bytes: u64, in_ram: bool) -> Self {
        Self { ram_bytes: if in_ram { bytes } else { 0 }, disk_bytes: bytes }
    }

    /// The sum of two usages.
    #[must_use]
    pub fn plus(self, other: Self) -> Self {
        Self {
            ram_bytes: self.ram_bytes.saturating_add(other.ram_bytes),
            disk_bytes: self.disk_bytes.saturating_add(other.disk_bytes),
        }
    }
}

/// One named vector's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct VectorUsage {
    /// The original vectors.
    pub vectors: Usage,
    /// The index (the HNSW graph).
    pub index: Usage,
    /// The quantized vectors.
    pub quantized: Usage,
}

impl VectorUsage {
    /// All three parts together.
    pub fn total(&self) -> Usage {
        self.vectors.plus(self.index).plus(self.quantized)
    }
}

/// A collection's storage as the engine holds it once indexed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct StorageUsage {
    /// Per named vector.
    pub vectors: BTreeMap<String, VectorUsage>,
    /// Everything else: ids, payloads, the write-ahead log (on disk; RAM not attributed).
    pub other: Usage,
    /// How it was measured, for the reader.
    pub method: String,
}

impl StorageUsage {
    /// The whole collection.
    pub fn total(&self) -> Usage {
        self.vectors.values().fold(self.other, |sum, vector| sum.plus(vector.total()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_on_disk_only_adds_no_ram() {
        let usage = Usage::of(100, false).plus(Usage::of(40, true));
        assert_eq!(usage, Usage { ram_bytes: 40, disk_bytes: 140 });
    }

    #[test]
    fn the_total_adds_every_vector_and_the_rest() {
        let text = VectorUsage {
            vectors: Usage::of(1000, true),
            index: Usage::of(200, false),
            quantized: Usage::of(250, true),
        };
        let usage = StorageUsage {
            vectors: BTreeMap::from([("text".to_owned(), text), ("image".to_owned(), VectorUsage::default())]),
            other: Usage::of(50, false),
            method: String::new(),
        };
        assert_eq!(usage.total(), Usage { ram_bytes: 1250, disk_bytes: 1500 });
    }
}
