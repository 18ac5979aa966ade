//! Dataset reader benchmark: vectors/s and MB/s decoding Parquet through the storage port
//! (`DatasetReader::open_points` on `ParquetStorage`), and the peak RSS of a ≈100 MB and a ≈1 GB
//! read, which must not grow with the file size.
//!
//! Run: `cargo bench -p qbench-object-storage --bench reader` (part of `make bench`).
//!
//! Two single-file datasets of 768-dim float32 vectors (`id` int64, `emb` FixedSizeList, zstd like
//! the adapter's writer) are generated once, a chunk at a time, and reused from
//! `$QBENCH_BENCH_DATA` (default `$HOME/.cache/qbench-bench-data`). Every (size, batch size) read
//! runs in a fresh child process of this binary, so its peak RSS (`VmHWM`) belongs to that read
//! alone. Files are read from the page cache (they were just written or read), so the figures are
//! decoding cost, not disk speed.
//!
//! Each read is repeated ([`DEFAULT_REPEAT`] times): the table shows the fastest time and the range
//! of peak RSS.
//!
//! Pass/fail: for each batch size, the 1 GB read's peak RSS (lowest of the repeats) may exceed the
//! 100 MB read's by at most [`RSS_TOLERANCE_MIB`]; beyond that the process exits with status 1. A
//! streaming reader holds one row group and a few batches whatever the file size, so its footprint
//! is a constant and an absolute margin is the right test: reading the whole file would add
//! ≈900 MB, far past it, while glibc's per-thread arenas make the peak wander by tens of MB.
//!
//! Environment: `QBENCH_BENCH_DATA` (dataset directory), `QBENCH_BENCH_ROW_GROUP_ROWS` (rows per row
//! group of generated files, default 8192 ≈ 24 MiB of vectors, so both files have several),
//! `QBENCH_BENCH_READER_ROWS` (comma-separated row counts, default `32768,327680`),
//! `QBENCH_BENCH_REPEAT` (reads per file and batch size, default 3).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, FixedSizeListArray, Float32Array, Int64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};
use qbench_domain::{Dimension, Distance, SchemaConfig, VectorSpec};
use qbench_object_storage::{ParquetStorage, ParquetStorageConfig};
use qbench_storage::{DatasetPart, DatasetReader, DatasetSource};
use serde_json::json;

/// Values per vector.
const DIM: usize = 768;
/// The vector column.
const COLUMN: &str = "emb";
/// Rows of the ≈100 MB and ≈1 GB datasets (768 × 4 bytes a row: 100.7 MB and 1.007 GB of floats).
const DEFAULT_ROWS: [usize; 2] = [32_768, 327_680];
/// Rows per row group of generated files, unless `QBENCH_BENCH_ROW_GROUP_ROWS` says otherwise.
const DEFAULT_ROW_GROUP_ROWS: usize = 8_192;
/// Rows built in memory at a time while generating.
const WRITE_CHUNK_ROWS: usize = 8_192;
/// The batch sizes read with: the service's upload default, and a large one.
const BATCH_ROWS: [usize; 2] = [256, 4_096];
/// Reads of each (file, batch size), each in its own child: the fastest time and the lowest peak
/// RSS are compared, so another process's load or an allocator's luck does not decide the result.
const DEFAULT_REPEAT: usize = 3;
/// How much more the largest read's peak RSS may be than the smallest's (lowest of the repeats).
const RSS_TOLERANCE_MIB: f64 = 100.0;
/// The child's result line starts with this.
const RESULT_TAG: &str = "qbench-reader-result ";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--child") {
        let path = PathBuf::from(&args[at + 1]);
        let batch_rows: usize = args[at + 2].parse().unwrap();
        child(&path, batch_rows);
        return ExitCode::SUCCESS;
    }
    parent()
}

/// Generates (or reuses) the datasets, reads each in a child per batch size, prints the table and
/// checks the RSS tolerance.
fn parent() -> ExitCode {
    let dir = data_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.canonicalize().unwrap();
    let group_rows = env_usize("QBENCH_BENCH_ROW_GROUP_ROWS").unwrap_or(DEFAULT_ROW_GROUP_ROWS);
    let sizes: Vec<usize> = match std::env::var("QBENCH_BENCH_READER_ROWS") {
        Ok(list) => list.split(',').map(|rows| rows.trim().parse().unwrap()).collect(),
        Err(_) => DEFAULT_ROWS.to_vec(),
    };
    let files: Vec<PathBuf> = sizes.iter().map(|rows| dataset(&dir, *rows, group_rows)).collect();

    let repeat = env_usize("QBENCH_BENCH_REPEAT").unwrap_or(DEFAULT_REPEAT).max(1);
    println!(
        "reader: {DIM}-dim float32, zstd, {group_rows} rows per row group, best of {repeat} reads, data in {}",
        dir.display()
    );
    println!();
    println!("| file | rows | row groups | batch | seconds | vectors/s | MB/s | peak RSS (MiB) | RSS before (MiB) |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut failed = false;
    for batch_rows in BATCH_ROWS {
        let mut floors = Vec::new();
        for path in &files {
            let results: Vec<serde_json::Value> = (0..repeat).map(|_| run_child(path, batch_rows)).collect();
            let figure = |key: &'static str| results.iter().map(move |result| result[key].as_f64().unwrap());
            let first = &results[0];
            let rows = first["rows"].as_u64().unwrap();
            let bytes = first["file_bytes"].as_u64().unwrap() as f64;
            let seconds = figure("seconds").fold(f64::INFINITY, f64::min);
            let peak_min = figure("peak_rss_kib").fold(f64::INFINITY, f64::min) / 1024.0;
            let peak_max = figure("peak_rss_kib").fold(0.0, f64::max) / 1024.0;
            let before = figure("rss_before_kib").fold(0.0, f64::max) / 1024.0;
            let peak = if repeat > 1 { format!("{peak_min:.0}–{peak_max:.0}") } else { format!("{peak_min:.0}") };
            println!(
                "| {:.0} MB | {rows} | {} | {batch_rows} | {seconds:.2} | {:.0} | {:.0} | {peak} | {before:.0} |",
                bytes / 1e6,
                first["row_groups"],
                rows as f64 / seconds,
                bytes / 1e6 / seconds,
            );
            floors.push(peak_min);
        }
        if let (Some(smallest), Some(largest)) = (floors.first(), floors.last())
            && largest - smallest > RSS_TOLERANCE_MIB
        {
            eprintln!(
                "reader: FAIL: at batch {batch_rows} the largest file's peak RSS is {largest:.1} MiB, the smallest's \
                 {smallest:.1} MiB: +{:.1} MiB exceeds the +{RSS_TOLERANCE_MIB} MiB tolerance, so reading is not \
                 streamed",
                largest - smallest
            );
            failed = true;
        }
    }
    println!();
    if failed {
        return ExitCode::FAILURE;
    }
    println!("reader: OK: peak RSS grows by at most +{RSS_TOLERANCE_MIB} MiB from the smallest file to the largest");
    ExitCode::SUCCESS
}

/// `$QBENCH_BENCH_DATA`, else `$HOME/.cache/qbench-bench-data`.
fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("QBENCH_BENCH_DATA") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join("qbench-bench-data")
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().map(|value| value.trim().parse().unwrap())
}

/// The dataset of `rows` rows in `dir`, generated unless a complete one is there already.
fn dataset(dir: &Path, rows: usize, group_rows: usize) -> PathBuf {
    let path = dir.join(format!("reader-{rows}x{DIM}-rg{group_rows}.parquet"));
    let complete = File::open(&path)
        .ok()
        .and_then(|file| SerializedFileReader::new(file).ok())
        .is_some_and(|reader| reader.metadata().file_metadata().num_rows() == rows as i64);
    if complete {
        return path;
    }
    eprintln!("reader: generating {} ({rows} rows) …", path.display());
    let started = Instant::now();
    let partial = path.with_extension("parquet.partial");
    generate(&partial, rows, group_rows);
    std::fs::rename(&partial, &path).unwrap();
    eprintln!("reader: generated in {:.1} s", started.elapsed().as_secs_f64());
    path
}

/// Writes `rows` random vectors to `path`, [`WRITE_CHUNK_ROWS`] at a time: memory stays at one
/// chunk plus the row group the writer buffers, whatever the file size.
fn generate(path: &Path, rows: usize, group_rows: usize) {
    let element = Arc::new(Field::new_list_field(DataType::Float32, true));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new(COLUMN, DataType::FixedSizeList(element.clone(), DIM as i32), false),
    ]));
    // The adapter's writer (`write.rs`) uses the same compression.
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(group_rows))
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path).unwrap(), schema.clone(), Some(properties)).unwrap();
    let mut rng = SplitMix64(0x5eed_0000 + rows as u64);
    for start in (0..rows).step_by(WRITE_CHUNK_ROWS) {
        let end = (start + WRITE_CHUNK_ROWS).min(rows);
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(start as i64..end as i64));
        let values: Float32Array = (0..(end - start) * DIM).map(|_| Some(rng.next_f32())).collect();
        let vectors: ArrayRef =
            Arc::new(FixedSizeListArray::try_new(element.clone(), DIM as i32, Arc::new(values), None).unwrap());
        writer.write(&RecordBatch::try_new(schema.clone(), vec![ids, vectors]).unwrap()).unwrap();
    }
    writer.close().unwrap();
}

/// A small, fast generator of uniform values in [-1, 1): the content does not matter to decoding,
/// only that it does not compress away.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Reads `path` in a child process of this binary and returns its result.
fn run_child(path: &Path, batch_rows: usize) -> serde_json::Value {
    let output = Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .arg(path)
        .arg(batch_rows.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "reader child failed on {} ({}):\n{stdout}\n{}",
        path.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout.lines().find_map(|line| line.strip_prefix(RESULT_TAG)).expect("a result line");
    serde_json::from_str(line).unwrap()
}

/// A `/proc/self/status` figure in KiB (`VmHWM`, `VmRSS`).
fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|line| line.starts_with(key)).unwrap_or_else(|| panic!("no {key} line"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The child: streams every point of `path` through the port and prints one result line.
fn child(path: &Path, batch_rows: usize) {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let dir = path.parent().unwrap().to_path_buf();
    let storage =
        ParquetStorage::new(ParquetStorageConfig { data_roots: vec![dir], ..ParquetStorageConfig::default() }).unwrap();
    let source =
        DatasetSource { uri: format!("file://{}", path.display()).parse().unwrap(), s3: None, local_area: None };
    let schema =
        SchemaConfig::from_vectors([(COLUMN, VectorSpec::new(Dimension::new(DIM as u32).unwrap(), Distance::Cosine))])
            .unwrap();
    let file_bytes = std::fs::metadata(path).unwrap().len();
    let row_groups = SerializedFileReader::new(File::open(path).unwrap()).unwrap().metadata().num_row_groups();
    let rss_before = status_kib("VmRSS:");

    let (rows, seconds, checksum) = runtime.block_on(async {
        let started = Instant::now();
        let mut stream = storage.open_points(&source, &schema, DatasetPart::Train, batch_rows).await.unwrap();
        let (mut rows, mut checksum) = (0_u64, 0.0_f64);
        while let Some(batch) = stream.next_batch().await.unwrap() {
            rows += batch.len() as u64;
            // Touch the decoded values so nothing can be skipped.
            checksum += batch.vectors.values().map(|values| f64::from(values[values.len() / 2])).sum::<f64>();
        }
        (rows, started.elapsed().as_secs_f64(), checksum)
    });
    let result = json!({
        "rows": rows,
        "seconds": seconds,
        "file_bytes": file_bytes,
        "row_groups": row_groups,
        "peak_rss_kib": status_kib("VmHWM:"),
        "rss_before_kib": rss_before,
        "checksum": checksum,
    });
    println!("{RESULT_TAG}{result}");
}
