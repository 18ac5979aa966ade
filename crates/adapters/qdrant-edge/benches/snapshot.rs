//! Snapshot and restore of an embedded collection, against building it (issue 15;
//! docs/BENCHMARKS.md, "Snapshots (issue 15)").
//!
//! Run (release; part of `make bench`): `cargo bench -p qbench-qdrant-edge --bench snapshot`. On
//! the 2-core VM once built: about 3 minutes on the default 100,000 × 768 random vectors, 1.5
//! minutes clustered, nearly all of it the index build; `QBENCH_BENCH_POINTS=5000
//! QBENCH_BENCH_DIM=64` takes 2 seconds.
//!
//! Sizes come from the environment so that it can be smoke-run quickly:
//! `QBENCH_BENCH_POINTS` (default 100,000), `QBENCH_BENCH_DIM` (768), `QBENCH_BENCH_BATCH` (256
//! points per upsert), `QBENCH_BENCH_UPLOADERS` (2 upserts in flight; batch and parallelism are the
//! service's upload defaults), `QBENCH_BENCH_REPEAT` (3 snapshots and 3 restores of the one build,
//! each phase reported as its median and range), `QBENCH_BENCH_DATA` `random` (default: uniform
//! in [-1, 1), the hardest case for the graph build) or `clustered` (the domain's seeded generator
//! with `qbench dataset generate`'s default clusters, points / 500: the data of the other figures
//! of docs/BENCHMARKS.md). Everything is written under a temporary directory (`TMPDIR`) removed at
//! the end.
//!
//! What it does, through the `VectorStore` port of [`EmbeddedEngine`] only, and what is timed:
//! 1. Build, timed as the figure a snapshot saves: seeded vectors (generated before the clock
//!    starts, and freed after the upload) go into a collection of one named Cosine
//!    vector, HNSW `m` 16, `ef_construct` 100, in batches from the uploaders (upload seconds), then
//!    `build_index` to completion (index seconds).
//! 2. Snapshot: `VectorStore::snapshot`, then every `SnapshotReader::next_chunk` hashed with
//!    SHA-256 and written to a file, as the service's snapshot job does (the file is not fsynced:
//!    on this machine it lands in the page cache). Every snapshot of the unchanged collection must
//!    have the same SHA-256.
//! 3. The built collection is dropped, so what the restore holds is seen against an engine with
//!    nothing open (a fresh process restoring a kept build, as a study's trial does).
//! 4. Restore: `VectorStore::restore` into a new name, the archive read back from the file in
//!    1 MiB pieces, hashed and written (`SnapshotWriter::write`), then `finish` (unpack, load and
//!    count, install, open); the restored collection is dropped before the next repetition. The
//!    points, the SHA-256 and (first restore) the answers to a few searches must match the built
//!    collection's.
//!
//! Memory: before each phase the RSS is read and the high-water mark reset (`5` into
//! `/proc/self/clear_refs`); after it `VmHWM` is the phase's peak. When the kernel refuses the
//! reset, the peak is since the start of the process and the table says so. The restore is split
//! in two: streaming the archive into the engine (bounded by a chunk, whatever the archive's size)
//! and `finish`, which opens the restored collection and so holds what that collection holds in
//! RAM (its vectors are kept in RAM) — and, as measured, its whole write-ahead log, which loading
//! the shard reads through its mapping (docs/BENCHMARKS.md).
//!
//! Where the memory is: after the build and after the restore, the process's RSS is broken down by
//! mapping (`/proc/self/smaps`): each file of the collection mapped by the engine, grouped by
//! part (`wal`, a segment's vector storage, index…), and anonymous memory. The archive is broken
//! down the same way (the bytes of its tar entries).
//!
//! The table is printed in Markdown on stdout; progress goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qbench_domain::synthetic::{SyntheticSpec, generate};
use qbench_domain::{Dimension, Distance, IndexConfig, PointId, VectorName, VectorSpec};
use qbench_qdrant_edge::EmbeddedEngine;
use qbench_vector_store::{CollectionSpec, Point, SearchParams, SearchRequest, VectorStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sha2::{Digest, Sha256};

/// The collection built, and the one restored from its snapshot.
const BUILT: &str = "qbench-bench-built";
const RESTORED: &str = "qbench-bench-restored";
/// The named vector.
const VECTOR: &str = "text";
/// What a restore is handed at a time, as the service's restore reads its repository.
const RESTORE_PIECE_BYTES: usize = 1 << 20;
/// Searches compared between the built and the restored collection.
const CHECK_QUERIES: usize = 20;
const SEED: u64 = 42;

/// What to build, from the environment.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    points: usize,
    dim: usize,
    batch: usize,
    uploaders: usize,
    clustered: bool,
    repeat: usize,
}

fn sizes() -> Result<Sizes, String> {
    let read = |name: &str, default: usize| -> Result<usize, String> {
        match std::env::var(name) {
            Ok(text) => match text.trim().replace(['_', ','], "").parse::<usize>() {
                Ok(value) if value > 0 => Ok(value),
                _ => Err(format!("{name}={text}: expected a positive whole number")),
            },
            Err(_) => Ok(default),
        }
    };
    Ok(Sizes {
        points: read("QBENCH_BENCH_POINTS", 100_000)?,
        dim: read("QBENCH_BENCH_DIM", 768)?,
        batch: read("QBENCH_BENCH_BATCH", 256)?,
        uploaders: read("QBENCH_BENCH_UPLOADERS", 2)?,
        repeat: read("QBENCH_BENCH_REPEAT", 3)?,
        clustered: match std::env::var("QBENCH_BENCH_DATA").as_deref() {
            Err(_) | Ok("random") => false,
            Ok("clustered") => true,
            Ok(other) => return Err(format!("QBENCH_BENCH_DATA={other}: expected `random` or `clustered`")),
        },
    })
}

fn main() -> ExitCode {
    let sizes = match sizes() {
        Ok(sizes) => sizes,
        Err(problem) => {
            eprintln!("snapshot: {problem}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(run(sizes));
    ExitCode::SUCCESS
}

/// The RSS before a phase, and whether its high-water mark was reset for it.
struct Phase {
    before_kib: u64,
    reset: bool,
}

impl Phase {
    fn start() -> Self {
        let before_kib = rss_kib("VmRSS");
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        Self { before_kib, reset }
    }

    /// The phase's peak RSS (since the start of the process when the reset was refused).
    fn end(self, seconds: Duration) -> Measured {
        Measured {
            seconds: seconds.as_secs_f64(),
            before_kib: self.before_kib,
            peak_kib: rss_kib("VmHWM"),
            reset: self.reset,
        }
    }
}

/// One phase's figures.
#[derive(Debug, Clone, Copy)]
struct Measured {
    seconds: f64,
    before_kib: u64,
    peak_kib: u64,
    reset: bool,
}

impl Measured {
    fn growth_kib(&self) -> i64 {
        self.peak_kib as i64 - self.before_kib as i64
    }
}

/// The repetitions of one phase, as table cells: seconds (median, and the range when repeated),
/// MB/s of the median when `bytes` is given, then the memory of the repetition that grew most.
fn cells(repeats: &[Measured], bytes: Option<u64>) -> String {
    let mut seconds: Vec<f64> = repeats.iter().map(|measured| measured.seconds).collect();
    seconds.sort_by(f64::total_cmp);
    let median = seconds[seconds.len() / 2];
    let time = if seconds.len() > 1 {
        format!("{median:.2} ({:.2}–{:.2})", seconds[0], seconds[seconds.len() - 1])
    } else {
        format!("{median:.2}")
    };
    let rate = bytes.map_or(String::new(), |bytes| format!("{:.0}", bytes as f64 / 1e6 / median));
    let worst = repeats.iter().max_by_key(|measured| measured.growth_kib()).expect("at least one repetition");
    let peak = if worst.reset { mib(worst.peak_kib) } else { format!("{} (since start)", mib(worst.peak_kib)) };
    format!("{time} | {rate} | {} | {peak} | {:+.0}", mib(worst.before_kib), worst.growth_kib() as f64 / 1024.0)
}

/// One snapshot read to its end.
struct Snapshotted {
    measured: Measured,
    bytes: u64,
    chunks: u64,
    largest: usize,
    sha256: String,
}

/// Reads the snapshot of `collection` to its end through the port, hashing each chunk with
/// SHA-256 and writing it to `archive`.
async fn snapshot(engine: &EmbeddedEngine, collection: &str, archive: &Path) -> Snapshotted {
    let phase = Phase::start();
    let started = Instant::now();
    let mut reader = engine.snapshot(collection).await.expect("the snapshot");
    let mut file = File::create(archive).expect("the archive file");
    let mut hasher = Sha256::new();
    let (mut bytes, mut chunks, mut largest) = (0_u64, 0_u64, 0_usize);
    while let Some(chunk) = reader.next_chunk().await.expect("a chunk") {
        hasher.update(&chunk);
        file.write_all(&chunk).expect("writing the archive");
        bytes += chunk.len() as u64;
        chunks += 1;
        largest = largest.max(chunk.len());
    }
    file.flush().expect("writing the archive");
    drop(file);
    let measured = phase.end(started.elapsed());
    Snapshotted { measured, bytes, chunks, largest, sha256: hex(&hasher.finalize()) }
}

/// One restore: streaming the archive in, and `finish`.
struct Restored {
    streamed: Measured,
    finish: Measured,
    total: Measured,
    points: u64,
}

/// Restores `archive` into the new collection `collection`, read in 1 MiB pieces, each hashed
/// with SHA-256 and written; checks the bytes and SHA-256 against the snapshot's.
async fn restore(engine: &EmbeddedEngine, collection: &str, archive: &Path, snapshotted: &Snapshotted) -> Restored {
    let total = Phase { before_kib: rss_kib("VmRSS"), reset: false };
    let phase = Phase::start();
    let started = Instant::now();
    let mut writer = engine.restore(collection, false).await.expect("the restore");
    let mut file = File::open(archive).expect("the archive file");
    let mut piece = vec![0_u8; RESTORE_PIECE_BYTES];
    let mut hasher = Sha256::new();
    let mut written = 0_u64;
    loop {
        let read = fill(&mut file, &mut piece);
        if read == 0 {
            break;
        }
        hasher.update(&piece[..read]);
        writer.write(&piece[..read]).await.expect("writing into the restore");
        written += read as u64;
    }
    drop(file);
    let streamed = phase.end(started.elapsed());
    assert_eq!(
        (written, hex(&hasher.finalize())),
        (snapshotted.bytes, snapshotted.sha256.clone()),
        "the archive read back differs"
    );
    let streamed_peak = streamed.peak_kib;
    let phase = Phase::start();
    let finish_started = Instant::now();
    let points = writer.finish().await.expect("the restore's finish");
    let finish = phase.end(finish_started.elapsed());
    let total = Measured {
        peak_kib: streamed_peak.max(finish.peak_kib),
        reset: streamed.reset && finish.reset,
        ..total.end(started.elapsed())
    };
    Restored { streamed, finish, total, points }
}

async fn run(sizes: Sizes) {
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let engine = Arc::new(EmbeddedEngine::new(scratch.path().join("engine")));
    let vector: VectorName = VECTOR.parse().unwrap();
    let spec = CollectionSpec {
        name: BUILT.to_owned(),
        vectors: BTreeMap::from([(
            vector.clone(),
            VectorSpec::new(Dimension::new(sizes.dim as u32).unwrap(), Distance::Cosine),
        )]),
        indexing: BTreeMap::from([(vector.clone(), IndexConfig::hnsw(16, 100))]),
        quantization: None,
    };
    let rss_at_start = rss_kib("VmRSS");

    // 1. Build.
    let started = Instant::now();
    let (values, queries) = if sizes.clustered {
        let mut generated = generate(&SyntheticSpec {
            rows: sizes.points,
            queries: CHECK_QUERIES,
            vectors: spec.vectors.clone(),
            clusters: (sizes.points / 500).max(8),
            seed: SEED,
        });
        (generated.points.remove(&vector).unwrap(), generated.queries.remove(&vector).unwrap())
    } else {
        (random_values(sizes.points * sizes.dim, SEED), random_values(CHECK_QUERIES * sizes.dim, SEED + 1))
    };
    let values = Arc::new(values);
    eprintln!(
        "generated {} × {} {} vectors in {:.2} s",
        sizes.points,
        sizes.dim,
        data_kind(sizes),
        started.elapsed().as_secs_f64()
    );
    engine.create_collection(&spec).await.expect("the collection");
    let phase = Phase::start();
    let started = Instant::now();
    upload(&engine, &vector, &values, sizes).await;
    let upload = phase.end(started.elapsed());
    eprintln!("uploaded in {:.2} s", upload.seconds);
    // The engine holds its own copy now.
    drop(values);
    let phase = Phase::start();
    let started = Instant::now();
    engine.build_index(BUILT).await.expect("the index");
    let index = phase.end(started.elapsed());
    let info = engine.collection_info(BUILT).await.expect("the built collection's info");
    assert_eq!(info.points, sizes.points as u64, "points stored");
    assert!(info.indexed_vectors >= sizes.points as u64, "only {} vectors indexed", info.indexed_vectors);
    eprintln!("indexed in {:.2} s ({} segment(s))", index.seconds, info.segments);
    let built_disk = disk_usage(&engine.collection_dir(BUILT));
    let built_ram = info.storage.as_ref().map(|storage| storage.total().ram_bytes);
    let built_answers = answers(&engine, BUILT, &vector, &queries, sizes.dim).await;
    let rss_built = rss_kib("VmRSS");
    let mapped_built = rss_by_mapping(engine.root());

    // 2. Snapshots, into a file, hashed; the same collection archives to the same bytes.
    let archive = scratch.path().join("snapshot.tar");
    let mut snapshots = Vec::new();
    for _ in 0..sizes.repeat {
        let snapshotted = snapshot(&engine, BUILT, &archive).await;
        eprintln!(
            "snapshot: {} in {:.2} s, {} chunks, SHA-256 {}",
            megabytes(snapshotted.bytes),
            snapshotted.measured.seconds,
            snapshotted.chunks,
            snapshotted.sha256
        );
        if let Some(first) = snapshots.first() {
            let first: &Snapshotted = first;
            assert_eq!(snapshotted.sha256, first.sha256, "two snapshots of an unchanged collection differ");
        }
        snapshots.push(snapshotted);
    }
    let snapshotted = &snapshots[0];
    let bytes = snapshotted.bytes;

    // 3. The built collection is dropped: the restore starts from an engine with nothing open.
    engine.drop_collection(BUILT).await.expect("dropping the built collection");
    let rss_dropped = rss_kib("VmRSS");

    // 4. Restores into a new name; the first is checked against the built collection.
    let mut restores = Vec::new();
    let mut checked = None;
    for repetition in 0..sizes.repeat {
        let restored = restore(&engine, RESTORED, &archive, snapshotted).await;
        eprintln!(
            "restored {} points in {:.2} s (finish {:.2} s)",
            restored.points, restored.total.seconds, restored.finish.seconds
        );
        assert_eq!(restored.points, sizes.points as u64, "points restored");
        if repetition == 0 {
            let info = engine.collection_info(RESTORED).await.expect("the restored collection's info");
            assert!(info.indexed_vectors >= restored.points, "only {} vectors indexed", info.indexed_vectors);
            let same = answers(&engine, RESTORED, &vector, &queries, sizes.dim).await == built_answers;
            checked = Some((
                same,
                disk_usage(&engine.collection_dir(RESTORED)),
                rss_kib("VmRSS"),
                rss_by_mapping(engine.root()),
            ));
        }
        engine.drop_collection(RESTORED).await.expect("dropping the restored collection");
        restores.push(restored);
    }
    let (same, restored_disk, rss_restored, mapped_restored) = checked.expect("at least one restore");
    let rss_end = rss_kib("VmRSS");

    let build_seconds = upload.seconds + index.seconds;
    let median = |mut seconds: Vec<f64>| {
        seconds.sort_by(f64::total_cmp);
        seconds[seconds.len() / 2]
    };
    let snapshot_seconds = median(snapshots.iter().map(|snapshot| snapshot.measured.seconds).collect());
    let restore_seconds = median(restores.iter().map(|restored| restored.total.seconds).collect());
    println!(
        "\nSnapshot and restore on the embedded engine (qdrant-edge {}): {} × {} Cosine ({}), HNSW m 16 \
         ef_construct 100; snapshot and restore {} time(s) each (median, range)\n",
        qbench_qdrant_edge::ENGINE_VERSION,
        sizes.points,
        sizes.dim,
        data_kind(sizes),
        sizes.repeat
    );
    println!("| phase | seconds | MB/s | RSS before (MiB) | peak RSS (MiB) | peak − before (MiB) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    println!("| build: upload ({} × batch {}) | {} |", sizes.uploaders, sizes.batch, cells(&[upload], None));
    println!("| build: index | {} |", cells(&[index], None));
    println!("| **build total** | **{build_seconds:.2}** | | | | |");
    let measured = |pick: fn(&Restored) -> Measured| restores.iter().map(pick).collect::<Vec<_>>();
    println!(
        "| snapshot: `next_chunk` → SHA-256 → file | {} |",
        cells(&snapshots.iter().map(|snapshot| snapshot.measured).collect::<Vec<_>>(), Some(bytes))
    );
    println!(
        "| restore: file (1 MiB pieces) → SHA-256 → `write` | {} |",
        cells(&measured(|restored| restored.streamed), Some(bytes))
    );
    println!(
        "| restore: `finish` (unpack, load, count, open) | {} |",
        cells(&measured(|restored| restored.finish), None)
    );
    println!("| **restore total** | {} |", cells(&measured(|restored| restored.total), Some(bytes)));
    println!();
    println!("| figure | value |");
    println!("| --- | --- |");
    println!(
        "| archive | {} in {} chunks (largest {} B); SHA-256 the same in every snapshot |",
        megabytes(bytes),
        snapshotted.chunks,
        snapshotted.largest
    );
    println!(
        "| built collection on disk (allocated / apparent) | {} / {} |",
        megabytes(built_disk.allocated),
        megabytes(built_disk.apparent)
    );
    println!(
        "| restored collection on disk (allocated / apparent) | {} / {} |",
        megabytes(restored_disk.allocated),
        megabytes(restored_disk.apparent)
    );
    if let Some(ram) = built_ram {
        println!("| built collection in RAM (the engine's `StorageUsage`) | {} |", megabytes(ram));
    }
    println!(
        "| RSS: start / built / built dropped / first restore open / end (MiB) | {} / {} / {} / {} / {} |",
        mib(rss_at_start),
        mib(rss_built),
        mib(rss_dropped),
        mib(rss_restored),
        mib(rss_end)
    );
    println!(
        "| points restored | {} (searches answer the same: {}) |",
        restores[0].points,
        if same { "yes" } else { "**no**" }
    );
    println!("| snapshot + restore / build (medians) | {:.3} |", (snapshot_seconds + restore_seconds) / build_seconds);
    println!(
        "| restore / build (medians) | {:.3} ({:.0}× faster) |",
        restore_seconds / build_seconds,
        build_seconds / restore_seconds
    );

    println!("\n| RSS by mapping (MiB) | built | first restore open |");
    println!("| --- | --- | --- |");
    let parts: std::collections::BTreeSet<&String> = mapped_built.keys().chain(mapped_restored.keys()).collect();
    for part in parts {
        let cell = |mapped: &BTreeMap<String, u64>| mapped.get(part).map_or("0".to_owned(), |kib| mib(*kib));
        println!("| {part} | {} | {} |", cell(&mapped_built), cell(&mapped_restored));
    }
    println!("\n| archive part | MB |");
    println!("| --- | --- |");
    let mut rest = 0;
    for (part, part_bytes) in archive_parts(&archive) {
        // Parts under 1 % of the archive are summed in one line.
        if part_bytes * 100 < bytes {
            rest += part_bytes;
        } else {
            println!("| {part} | {} |", megabytes(part_bytes));
        }
    }
    println!("| everything else (each under 1 %) | {} |", megabytes(rest));
    if !(upload.reset && snapshotted.measured.reset) {
        println!("\nThe kernel refused to reset the peak RSS: peaks are since the start of the process.");
    }
    drop(engine);
}

fn data_kind(sizes: Sizes) -> &'static str {
    if sizes.clustered { "clustered" } else { "uniform random" }
}

/// `count` seeded uniform values in [-1, 1).
fn random_values(count: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count).map(|_| rng.random_range(-1.0_f32..1.0)).collect()
}

/// Upserts every point (ids `0..points`) in batches from `sizes.uploaders` tasks taking batches in
/// turn, as the service's upload does.
async fn upload(engine: &Arc<EmbeddedEngine>, vector: &VectorName, values: &Arc<Vec<f32>>, sizes: Sizes) {
    let batches = sizes.points.div_ceil(sizes.batch);
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..sizes.uploaders)
        .map(|_| {
            let (engine, vector, values, next) = (engine.clone(), vector.clone(), values.clone(), next.clone());
            tokio::spawn(async move {
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    if at >= batches {
                        break;
                    }
                    let rows = at * sizes.batch..((at + 1) * sizes.batch).min(sizes.points);
                    let points: Vec<Point> = rows
                        .map(|row| Point {
                            id: PointId::Num(row as u64),
                            vectors: vec![(vector.clone(), values[row * sizes.dim..(row + 1) * sizes.dim].to_vec())],
                            payload: serde_json::Map::new(),
                        })
                        .collect();
                    engine.upsert(BUILT, &points).await.expect("an upsert");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("an uploader");
    }
}

/// The ids found for each query (hnsw_ef 64, k 10).
async fn answers(
    engine: &EmbeddedEngine,
    collection: &str,
    vector: &VectorName,
    queries: &[f32],
    dim: usize,
) -> Vec<Vec<PointId>> {
    let params = SearchParams { hnsw_ef: Some(64), exact: false, quantization: None };
    let mut found = Vec::new();
    for query in queries.chunks_exact(dim) {
        let request = SearchRequest { vector, query, k: 10, params: &params };
        let response = engine.search(collection, request).await.expect("a search");
        found.push(response.points.iter().map(|point| point.id).collect());
    }
    found
}

/// Reads until `buffer` is full or the file ends; the bytes read.
fn fill(file: &mut File, buffer: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]).expect("reading the archive") {
            0 => break,
            read => filled += read,
        }
    }
    filled
}

/// Bytes a directory's files hold: allocated on disk (the engine preallocates sparse files) and
/// apparent (their lengths).
struct DiskUsage {
    allocated: u64,
    apparent: u64,
}

fn disk_usage(dir: &Path) -> DiskUsage {
    use std::os::unix::fs::MetadataExt;
    let mut usage = DiskUsage { allocated: 0, apparent: 0 };
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a collection directory") {
            let entry = entry.expect("a directory entry");
            let metadata = entry.metadata().expect("an entry's metadata");
            if metadata.is_dir() {
                pending.push(entry.path());
            } else {
                usage.allocated += metadata.blocks() * 512;
                usage.apparent += metadata.len();
            }
        }
    }
    usage
}

/// The process's RSS in KiB by mapping: files under the engine's `root` by collection part
/// (`wal`, `segments/*/<part>`, a restore's staging directory), anonymous memory, other files.
fn rss_by_mapping(root: &Path) -> BTreeMap<String, u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
    let mut parts = BTreeMap::new();
    let mut current = String::new();
    for line in smaps.lines() {
        if let Some(kib) = line.strip_prefix("Rss:") {
            let kib: u64 = kib.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
            *parts.entry(current.clone()).or_insert(0) += kib;
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let is_header = fields
            .first()
            .is_some_and(|range| range.contains('-') && range.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
            && fields.len() >= 5;
        if is_header {
            let path = fields[5..].join(" ");
            current = mapping_part(&path, root);
        }
    }
    parts.retain(|_, kib| *kib >= 1024);
    parts
}

fn mapping_part(path: &str, root: &Path) -> String {
    if path.is_empty() || path.starts_with('[') {
        return "anonymous (heap, stacks)".to_owned();
    }
    let Ok(inside) = Path::new(path.trim_end_matches(" (deleted)")).strip_prefix(root) else {
        return "other files (binary, libraries)".to_owned();
    };
    let parts: Vec<String> = inside.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
    let deleted = if path.ends_with(" (deleted)") { " (deleted)" } else { "" };
    let collection = if parts.first().is_some_and(|dir| dir.starts_with(".restoring")) { "staging: " } else { "" };
    let part = match parts.get(1).map(String::as_str) {
        Some("segments") => format!("segments/*/{}", parts.get(3).map_or("", |part| part.as_str())),
        Some(part) => part.to_owned(),
        None => parts.first().cloned().unwrap_or_default(),
    };
    format!("collection {collection}{part}{deleted}")
}

/// The archive's bytes by part of the shard: `wal`, `segments/*/<part>`, the rest.
fn archive_parts(archive: &Path) -> BTreeMap<String, u64> {
    let mut tar = tar::Archive::new(File::open(archive).expect("the archive file"));
    let mut parts = BTreeMap::new();
    for entry in tar.entries().expect("the archive's entries") {
        let entry = entry.expect("an archive entry");
        let path = entry.path().expect("an entry's path").into_owned();
        let names: Vec<String> =
            path.components().map(|part| part.as_os_str().to_string_lossy().into_owned()).collect();
        let part = match names.first().map(String::as_str) {
            // segments/<id>/files/<part>/…
            Some("segments") => format!("segments/*/{}", names.get(3).map_or("", |part| part.as_str())),
            Some(first) => first.to_owned(),
            None => String::new(),
        };
        // Header and padding included: what the part costs in the archive.
        *parts.entry(part).or_insert(0) += 512 + entry.header().entry_size().unwrap_or(0).next_multiple_of(512);
    }
    parts
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// A field of `/proc/self/status`, in KiB.
fn rss_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.0}", kib as f64 / 1024.0)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
