//! The C allocator's settings for this process: glibc's mmap threshold, fixed at start.
//!
//! glibc's malloc raises its mmap threshold as the program runs: once a mapped block is freed,
//! later blocks up to that size (32 MiB at most) are carved from the arena of the thread that asks
//! for them, and stay in that arena when freed. Reading Parquet allocates one buffer per row
//! group's column chunk (≈ 32 MB in the files qbench writes) on whichever of tokio's blocking
//! threads fetched it, and each of those threads has an arena of its own. After an upload, several
//! of these buffers stay resident while the embedded engine builds its index on other threads:
//! ≈ 100–150 MiB of the peak on 100,000 × 768 (docs/BENCHMARKS.md, "Peak RSS against the raw
//! engine"). With the threshold fixed, a block that large is always mapped on its own, so freeing
//! it returns it to the kernel; smaller blocks are served as before.

/// Blocks of at least this many bytes are always mapped on their own. Above Parquet's decoded page
/// buffers (≈ 1 MiB) and a default batch (768 KiB at 768 dimensions), which are allocated and
/// freed many times a second; below a row group's column chunk, allocated once per row group.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD_BYTES: libc::c_int = 4 << 20;

/// Variables through which an operator tunes glibc's malloc; when either is set, it is left alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const OPERATOR_SETTINGS: [&str; 2] = ["MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"];

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD_BYTES`] (see the module documentation), unless
/// the operator tunes malloc through its environment variables. Returns whether the setting took
/// effect; always `false` with another C library. Call it first in `main`, before any thread starts.
pub fn fix_mmap_threshold() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if OPERATOR_SETTINGS.iter().any(|name| std::env::var_os(name).is_some()) {
            return false;
        }
        // SAFETY: `mallopt` takes no pointer and changes malloc's parameters under malloc's own
        // lock; the value is within the range glibc accepts (at most 32 MiB on 64-bit targets).
        #[allow(unsafe_code)]
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) };
        set == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// A column chunk's size in a row group qbench writes, rounded down to whole pages.
    const ROW_GROUP_BYTES: usize = 24 << 20;

    /// Whether glibc mapped the block at `pointer`, of `requested` bytes, on its own: a mapped
    /// block is rounded up to whole pages, a heap block to 16 bytes.
    fn is_mapped(pointer: *mut u8, requested: usize) -> bool {
        // SAFETY: `pointer` is a live block from `malloc` (Rust's system allocator uses it for
        // byte buffers), which is what `malloc_usable_size` requires.
        #[allow(unsafe_code)]
        let usable = unsafe { libc::malloc_usable_size(pointer.cast()) };
        usable - requested >= 4096 - 16
    }

    #[test]
    fn a_row_group_buffer_is_still_mapped_after_one_was_freed() {
        if !fix_mmap_threshold() {
            // The operator's own malloc settings are in force; there is nothing of ours to check.
            assert!(OPERATOR_SETTINGS.iter().any(|name| std::env::var_os(name).is_some()));
            return;
        }
        // The first block of that size is mapped either way; freeing it is what raises glibc's
        // dynamic threshold, so that the next one would come from the heap and stay there.
        let first: Vec<u8> = std::hint::black_box(Vec::with_capacity(ROW_GROUP_BYTES));
        drop(first);
        let mut second: Vec<u8> = std::hint::black_box(Vec::with_capacity(ROW_GROUP_BYTES));
        assert!(is_mapped(second.as_mut_ptr(), ROW_GROUP_BYTES));
    }
}
