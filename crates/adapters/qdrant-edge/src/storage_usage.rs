//! What a collection's files occupy, part by part, read from its directory.
//!
//! The engine's own segment info leaves `ram_usage_bytes` and `disk_usage_bytes` unset, so the
//! bytes are measured where the engine keeps them: in each segment, `vector_storage-<name>/`
//! holds the vectors (its `quantized*` files the quantized vectors) and `vector_index-<name>/`
//! the graph. A part counts in RAM when the collection's configuration has the engine load it
//! ([`InRam`]); everything else (ids, payloads, the write-ahead log) counts on disk only. Sizes
//! are the blocks a file occupies, so the engine's sparse preallocation is not counted.

use std::collections::BTreeMap;
use std::path::Path;

use qbench_domain::{StorageUsage, Usage, VectorUsage};

use crate::config::{InRam, Layout};

/// Where a shard keeps its segments (qdrant-edge's `SEGMENTS_PATH`).
const SEGMENTS: &str = "segments";
const VECTOR_STORAGE: &str = "vector_storage";
const VECTOR_INDEX: &str = "vector_index";
const QUANTIZED: &str = "quantized";

/// How [`measure`] works, for the report's reader.
pub(crate) const METHOD: &str = "qdrant-edge segment files after indexing; RAM counts the parts the \
                                 configuration loads (vectors, graph unless on_disk, quantized data)";

/// Bytes found under one vector's directories.
#[derive(Default)]
struct Found {
    vectors: u64,
    index: u64,
    quantized: u64,
}

/// The storage of the collection in `dir`, laid out as `layout` says.
///
/// # Errors
/// The I/O error of a directory or file that could not be read.
pub(crate) fn measure(dir: &Path, layout: &Layout) -> std::io::Result<StorageUsage> {
    let names = layout.vector_names();
    let mut found: BTreeMap<&str, Found> = names.iter().map(|name| (name.as_str(), Found::default())).collect();
    let total = size(dir)?;
    let mut attributed = 0_u64;
    let segments = dir.join(SEGMENTS);
    if segments.is_dir() {
        for segment in std::fs::read_dir(&segments)? {
            let segment = segment?.path();
            if !segment.is_dir() {
                continue;
            }
            for name in &names {
                let entry = found.entry(name.as_str()).or_default();
                let storage = size_split(&segment.join(part(VECTOR_STORAGE, name)))?;
                let index = size(&segment.join(part(VECTOR_INDEX, name)))?;
                entry.vectors += storage.0;
                entry.quantized += storage.1;
                entry.index += index;
                attributed += storage.0 + storage.1 + index;
            }
        }
    }
    let vectors = found
        .into_iter()
        .map(|(name, found)| {
            let in_ram = layout.in_ram(name).unwrap_or(InRam { vectors: true, index: true, quantized: true });
            let usage = VectorUsage {
                vectors: Usage::of(found.vectors, in_ram.vectors),
                index: Usage::of(found.index, in_ram.index),
                quantized: Usage::of(found.quantized, in_ram.quantized),
            };
            (name.to_owned(), usage)
        })
        .collect();
    Ok(StorageUsage { vectors, other: Usage::of(total.saturating_sub(attributed), false), method: METHOD.to_owned() })
}

/// The directory of a vector's part, named as the engine names it (no suffix for the unnamed vector).
fn part(prefix: &str, name: &str) -> String {
    if name.is_empty() { prefix.to_owned() } else { format!("{prefix}-{name}") }
}

/// The bytes a file holds: the blocks allocated to it, not its length, since the engine
/// preallocates its chunks and write-ahead log sparsely (a 32 MiB chunk holding 4 MiB of vectors).
fn allocated(metadata: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    // `st_blocks` counts 512-byte units whatever the file system's block size.
    metadata.blocks().saturating_mul(512)
}

/// The bytes of the files under `path` (0 when it does not exist).
pub(crate) fn size(path: &Path) -> std::io::Result<u64> {
    let (plain, quantized) = size_split(path)?;
    Ok(plain + quantized)
}

/// The bytes under `path`, split into files not named `quantized*` and files that are (or lie in
/// a directory that is).
fn size_split(path: &Path) -> std::io::Result<(u64, u64)> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(error) => return Err(error),
    };
    let quantized = path.file_name().is_some_and(|name| name.to_string_lossy().starts_with(QUANTIZED));
    if !metadata.is_dir() {
        let bytes = if metadata.is_file() { allocated(&metadata) } else { 0 };
        return Ok(if quantized { (0, bytes) } else { (bytes, 0) });
    }
    let (mut plain, mut quantized_bytes) = (0, 0);
    for entry in std::fs::read_dir(path)? {
        let (inner_plain, inner_quantized) = size_split(&entry?.path())?;
        if quantized {
            quantized_bytes += inner_plain + inner_quantized;
        } else {
            plain += inner_plain;
            quantized_bytes += inner_quantized;
        }
    }
    Ok((plain, quantized_bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Files of whole blocks, which occupy what they hold.
    const KB: u64 = 4096;

    fn write(path: &Path, bytes: u64) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, vec![1_u8; bytes as usize]).unwrap();
    }

    #[test]
    fn each_part_of_each_vector_is_counted_apart_and_the_rest_is_other() {
        let dir = tempfile::tempdir().unwrap();
        let segment = dir.path().join("segments/0b4c");
        write(&segment.join("vector_storage-text/matrix.dat"), 10 * KB);
        write(&segment.join("vector_storage-text/quantized.data"), 3 * KB);
        write(&segment.join("vector_index-text/graph.bin"), 2 * KB);
        write(&segment.join("vector_storage-image/matrix.dat"), 4 * KB);
        write(&segment.join("id_tracker/mappings.bin"), KB);
        write(&dir.path().join("wal/open-1"), KB);
        let layout = Layout::for_test(&[("text", 4), ("image", 2)]);
        let usage = measure(dir.path(), &layout).unwrap();
        let text = usage.vectors["text"];
        assert_eq!(
            (text.vectors.disk_bytes, text.quantized.disk_bytes, text.index.disk_bytes),
            (10 * KB, 3 * KB, 2 * KB)
        );
        assert_eq!(text.total().ram_bytes, 15 * KB);
        assert_eq!(usage.vectors["image"].vectors.ram_bytes, 4 * KB);
        assert_eq!(usage.other, Usage { ram_bytes: 0, disk_bytes: 2 * KB });
        assert_eq!(usage.total().disk_bytes, 21 * KB);
    }

    #[test]
    fn a_vector_whose_name_prefixes_another_is_not_given_its_files() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("segments/a/vector_storage-text_small/matrix.dat"), 7 * KB);
        let layout = Layout::for_test(&[("text", 4), ("text_small", 2)]);
        let usage = measure(dir.path(), &layout).unwrap();
        assert_eq!(usage.vectors["text"].vectors.disk_bytes, 0);
        assert_eq!(usage.vectors["text_small"].vectors.disk_bytes, 7 * KB);
    }

    #[test]
    fn a_sparsely_preallocated_chunk_counts_what_it_holds_not_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let chunk = dir.path().join("segments/a/vector_storage-text/chunk_0.mmap");
        write(&chunk, 2 * KB);
        std::fs::OpenOptions::new().write(true).open(&chunk).unwrap().set_len(32 << 20).unwrap();
        let usage = measure(dir.path(), &Layout::for_test(&[("text", 4)])).unwrap();
        assert_eq!(usage.vectors["text"].vectors.disk_bytes, 2 * KB);
    }
}
