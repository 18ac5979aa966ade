//! Raw-engine driver: `qdrant-edge` driven by hand on a directory dataset, with no qbench code in
//! the measured path, as the baseline qbench's embedded figures are compared with on the same bytes
//! (docs/BENCHMARKS.md, "Raw engine on the same bytes").
//!
//! Run (release, about a minute on 100,000 × 768 once built):
//! `cargo bench -p qbench-qdrant-edge --bench raw_engine -- /tmp/qb100k/synth`
//!
//! Options after the dataset directory (defaults are qbench's): `--vector NAME` (default: the first
//! float32 list column of `train.parquet`), `--distance cosine|euclid|dot|manhattan` (cosine),
//! `--m 16`, `--ef-construct 100`, `--batch 256`, `--upload-threads 2`, `--hnsw-ef 64,128,256`,
//! `--clients 1,2`, `--k 10`, `--warmup 100`. Not part of `make bench`: it needs a dataset.
//!
//! What it does, and what is timed:
//! 1. Reads `train.parquet` (`id` int64/uint64 and the vector column, FixedSizeList or List of
//!    float32), `test.parquet` and `neighbors.parquet` (`id`, `neighbors_id`) into memory. The
//!    decoding is timed apart and is **not** part of the upload figure (qbench's upload streams the
//!    file, so its figure includes decoding).
//! 2. Creates an `EdgeShard` in a temporary directory configured as qbench's embedded adapter does:
//!    one named vector, in RAM, HNSW `m`/`ef_construct` as given, `full_scan_threshold` 10 KB (the
//!    lowest Qdrant accepts, so the graph is searched), all cores for indexing, and
//!    `indexing_threshold` 0 (the engine reads 0 as "never") so nothing is indexed during upload.
//! 3. Upload, timed: `--upload-threads` threads take batches of `--batch` points in turn from a
//!    shared counter, build the engine's points (an empty JSON payload, like a dataset without
//!    payload columns in qbench) and call `EdgeShard::update` with an upsert.
//! 4. Index, timed: the train set is freed first; then `indexing_threshold` becomes 1 KB,
//!    `EdgeShard::optimize` is called until it reports no work (at most 16 rounds), and the exact
//!    count and indexed-vector count are checked, as the adapter's `build_index` does.
//! 5. Search, per `hnsw_ef` and client count: `--warmup` queries on one thread (not timed), then
//!    each client thread (`std::thread::scope`) searches its share of the test queries (query `i`
//!    goes to client `i mod clients`) with `EdgeShard::search`, timing each call including building
//!    its request. QPS = queries / wall time of the pass; p50/p99 from an HdrHistogram (3
//!    significant digits, nanoseconds, as qbench); recall@k = |returned ∩ first k true ids| / k,
//!    averaged (the neighbors file has no distances, so there is no tie rule, as in qbench).
//! 6. Peak RSS: `VmHWM` of the process at the end, which includes the decoded train set held
//!    during upload, and the peak from the index phase on (after the train set is freed, the
//!    high-water mark is reset through `/proc/self/clear_refs`), which is the engine's own.
//!
//! The table is printed in Markdown on stdout; progress goes to stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float32Type, Int64Type, UInt64Type};
use hdrhistogram::Histogram;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use qdrant_edge::{
    CountRequest, EdgeConfig, EdgeOptimizersConfig, EdgeShard, EdgeVectorParams, HnswIndexConfig, NamedQuery, PointId,
    PointInsertOperations, PointOperations, PointStruct, PointStructPersisted, QueryEnum, SearchParams, SearchRequest,
    UpdateOperation, VectorInternal, Vectors,
};

/// The smallest full-scan threshold Qdrant accepts, in KB: below it a segment is scanned instead of
/// searched through its graph.
const FULL_SCAN_THRESHOLD_KB: usize = 10;
/// The indexing threshold that turns the indexer off.
const INDEXING_OFF_KB: usize = 0;
/// The smallest indexing threshold that means "on".
const INDEXING_ON_KB: usize = 1;
/// Rounds of `optimize` before giving up.
const MAX_OPTIMIZE_ROUNDS: usize = 16;
/// Rows per record batch while decoding Parquet.
const READ_BATCH_ROWS: usize = 8_192;

/// What to run, from the command line.
#[derive(Debug)]
struct Args {
    dir: PathBuf,
    vector: Option<String>,
    distance: qdrant_edge::Distance,
    m: usize,
    ef_construct: usize,
    batch: usize,
    upload_threads: usize,
    hnsw_ef: Vec<usize>,
    clients: Vec<usize>,
    k: usize,
    warmup: usize,
}

const USAGE: &str = "usage: raw_engine DATASET_DIR [--vector NAME] [--distance cosine|euclid|dot|manhattan] [--m 16] \
                     [--ef-construct 100] [--batch 256] [--upload-threads 2] [--hnsw-ef 64,128,256] [--clients 1,2] \
                     [--k 10] [--warmup 100]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        dir: PathBuf::new(),
        vector: None,
        distance: qdrant_edge::Distance::Cosine,
        m: 16,
        ef_construct: 100,
        batch: 256,
        upload_threads: 2,
        hnsw_ef: vec![64, 128, 256],
        clients: vec![1, 2],
        k: 10,
        warmup: 100,
    };
    let mut dir = None;
    // `cargo bench` appends `--bench`; it means nothing here.
    let mut given = std::env::args().skip(1).filter(|arg| arg != "--bench");
    while let Some(arg) = given.next() {
        if !arg.starts_with("--") {
            dir = Some(PathBuf::from(arg));
            continue;
        }
        let value = given.next().ok_or_else(|| format!("{arg} needs a value"))?;
        let number = |text: &str| text.parse::<usize>().map_err(|err| format!("{arg} {text}: {err}"));
        let list = |text: &str| text.split(',').map(number).collect::<Result<Vec<_>, _>>();
        match arg.as_str() {
            "--vector" => args.vector = Some(value),
            "--distance" => {
                args.distance = match value.to_ascii_lowercase().as_str() {
                    "cosine" => qdrant_edge::Distance::Cosine,
                    "euclid" => qdrant_edge::Distance::Euclid,
                    "dot" => qdrant_edge::Distance::Dot,
                    "manhattan" => qdrant_edge::Distance::Manhattan,
                    other => return Err(format!("unknown distance `{other}`")),
                }
            }
            "--m" => args.m = number(&value)?,
            "--ef-construct" => args.ef_construct = number(&value)?,
            "--batch" => args.batch = number(&value)?.max(1),
            "--upload-threads" => args.upload_threads = number(&value)?.max(1),
            "--hnsw-ef" => args.hnsw_ef = list(&value)?,
            "--clients" => args.clients = list(&value)?,
            "--k" => args.k = number(&value)?.max(1),
            "--warmup" => args.warmup = number(&value)?,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    args.dir = dir.ok_or("no dataset directory given")?;
    if args.clients.contains(&0) {
        return Err("--clients must be at least 1".to_owned());
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(problem) => {
            eprintln!("raw_engine: {problem}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    run(&args);
    ExitCode::SUCCESS
}

/// Vectors of one Parquet file, row-major, with their ids.
struct VectorColumn {
    column: String,
    dim: usize,
    ids: Vec<u64>,
    values: Vec<f32>,
}

impl VectorColumn {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn row(&self, row: usize) -> &[f32] {
        &self.values[row * self.dim..(row + 1) * self.dim]
    }
}

fn run(args: &Args) {
    let started = Instant::now();
    let train = read_vectors(&args.dir.join("train.parquet"), args.vector.as_deref());
    let load_seconds = started.elapsed().as_secs_f64();
    let test = read_vectors(&args.dir.join("test.parquet"), Some(&train.column));
    let truth_by_id = read_neighbors(&args.dir.join("neighbors.parquet"));
    let truth: Vec<Vec<u64>> = test
        .ids
        .iter()
        .map(|id| truth_by_id.get(id).unwrap_or_else(|| panic!("neighbors.parquet has no row for query {id}")).clone())
        .collect();
    assert_eq!(test.dim, train.dim, "test and train vectors differ in dimension");
    eprintln!(
        "loaded {} × {} `{}` train vectors in {load_seconds:.2} s, {} queries (RSS {})",
        train.len(),
        train.dim,
        train.column,
        test.len(),
        mib(rss_kib("VmRSS"))
    );

    let scratch = tempfile::tempdir().expect("a scratch directory");
    let shard = EdgeShard::new(scratch.path(), edge_config(args, &train.column, train.dim)).expect("the shard");

    let upload = upload(&shard, &train, args.batch, args.upload_threads);
    let points = train.len();
    let upload_peak = rss_kib("VmHWM");
    eprintln!("uploaded {points} points in {:.2} s (peak RSS so far {})", upload.as_secs_f64(), mib(upload_peak));
    let (vector, dim) = (train.column.clone(), train.dim);
    // The engine holds its own copy now; freeing the train set leaves the engine's footprint alone.
    drop(train);
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();

    let index = build_index(&shard, points as u64);
    let info = shard.info();
    eprintln!(
        "indexed in {:.2} s: {} segments, {} indexed vectors",
        index.as_secs_f64(),
        info.segments_count,
        info.indexed_vectors_count
    );
    let config = serde_json::to_string(&*shard.config()).expect("the configuration as JSON");
    eprintln!("engine configuration: {config}");

    let mut rows = Vec::new();
    for &clients in &args.clients {
        for &ef in &args.hnsw_ef {
            let measured = search(&shard, &vector, &test, &truth, args, ef, clients);
            eprintln!(
                "clients {clients} hnsw_ef {ef}: {:.0} QPS, p50 {:.3} ms, p99 {:.3} ms, recall {:.4}",
                measured.qps, measured.p50_ms, measured.p99_ms, measured.recall
            );
            rows.push((clients, ef, measured));
        }
    }
    let peak_engine = rss_kib("VmHWM");
    let peak = if reset { upload_peak.max(peak_engine) } else { peak_engine };

    println!("\nRaw qdrant-edge 0.7.2, `{vector}` (dim {dim}), {points} points, {} queries\n", test.len());
    println!("| figure | value |");
    println!("| --- | --- |");
    println!("| Parquet decode of train.parquet (not in upload) | {load_seconds:.2} s |");
    println!(
        "| upload ({} threads, batch {}) | {:.2} s ({:.0} points/s) |",
        args.upload_threads,
        args.batch,
        upload.as_secs_f64(),
        points as f64 / upload.as_secs_f64()
    );
    println!(
        "| index (m {}, ef_construct {}) | {:.2} s ({} segment(s)) |",
        args.m,
        args.ef_construct,
        index.as_secs_f64(),
        info.segments_count
    );
    println!("| peak RSS, whole process (train set held during upload) | {} |", mib(peak));
    if reset {
        println!("| peak RSS from index on (train set freed) | {} |", mib(peak_engine));
    }
    println!("\n| clients | hnsw_ef | QPS | p50 (ms) | p99 (ms) | recall@{} |", args.k);
    println!("| --- | --- | --- | --- | --- | --- |");
    for (clients, ef, measured) in &rows {
        println!(
            "| {clients} | {ef} | {:.0} | {:.3} | {:.3} | {:.4} |",
            measured.qps, measured.p50_ms, measured.p99_ms, measured.recall
        );
    }
}

/// The shard's configuration: what `qbench_qdrant_edge`'s `config::edge_config` builds for one
/// HNSW vector without quantization, written out by hand.
fn edge_config(args: &Args, vector: &str, dim: usize) -> EdgeConfig {
    let hnsw = HnswIndexConfig {
        m: args.m,
        ef_construct: args.ef_construct,
        full_scan_threshold: FULL_SCAN_THRESHOLD_KB,
        max_indexing_threads: 0,
        on_disk: Some(false),
        payload_m: None,
        inline_storage: None,
    };
    let params = EdgeVectorParams::builder(dim, args.distance).hnsw_config(hnsw).on_disk(false).build();
    EdgeConfig::builder()
        .vector(vector, params)
        .optimizers(EdgeOptimizersConfig { indexing_threshold: Some(INDEXING_OFF_KB), ..Default::default() })
        .build()
}

/// Upserts every train vector in batches from `threads` threads; the wall time.
fn upload(shard: &EdgeShard, train: &VectorColumn, batch: usize, threads: usize) -> Duration {
    let batches = train.len().div_ceil(batch);
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, Ordering::Relaxed);
                    if at >= batches {
                        break;
                    }
                    let rows = at * batch..((at + 1) * batch).min(train.len());
                    let points: Vec<PointStructPersisted> = rows
                        .map(|row| {
                            let vectors = Vectors::new_named([(train.column.as_str(), train.row(row).to_vec())]);
                            PointStruct::new(PointId::NumId(train.ids[row]), vectors, serde_json::json!({})).into()
                        })
                        .collect();
                    let upsert = PointOperations::UpsertPoints(PointInsertOperations::PointsList(points));
                    shard.update(UpdateOperation::PointOperation(upsert)).expect("an upsert");
                }
            });
        }
    });
    started.elapsed()
}

/// Switches indexing on and optimizes to completion, then checks every point is indexed.
fn build_index(shard: &EdgeShard, points: u64) -> Duration {
    let started = Instant::now();
    let mut optimizers = shard.config().optimizers.clone();
    optimizers.indexing_threshold = Some(INDEXING_ON_KB);
    shard.set_optimizers_config(optimizers).expect("indexing switched on");
    let idle = (0..MAX_OPTIMIZE_ROUNDS).any(|_| !shard.optimize().expect("an optimization round"));
    assert!(idle, "still optimizing after {MAX_OPTIMIZE_ROUNDS} rounds");
    let counted = shard.count(CountRequest { filter: None, exact: true }).expect("the count") as u64;
    let indexed = shard.info().indexed_vectors_count as u64;
    let elapsed = started.elapsed();
    assert_eq!(counted, points, "points stored");
    assert!(indexed >= points, "only {indexed} of {points} vectors indexed");
    elapsed
}

/// What one search client recorded: its latencies, and the ids each of its queries returned.
type ClientAnswers = (Histogram<u64>, Vec<(usize, Vec<u64>)>);

/// One (clients, hnsw_ef) pass.
struct Measured {
    qps: f64,
    p50_ms: f64,
    p99_ms: f64,
    recall: f64,
}

fn request(vector: &str, query: &[f32], k: usize, ef: usize) -> SearchRequest {
    SearchRequest {
        query: QueryEnum::Nearest(NamedQuery {
            query: VectorInternal::from(query.to_vec()),
            using: Some(vector.to_owned()),
        }),
        filter: None,
        params: Some(SearchParams {
            hnsw_ef: Some(ef),
            exact: false,
            quantization: None,
            indexed_only: false,
            acorn: None,
        }),
        limit: k,
        offset: 0,
        with_payload: None,
        with_vector: None,
        score_threshold: None,
    }
}

fn search(
    shard: &EdgeShard,
    vector: &str,
    test: &VectorColumn,
    truth: &[Vec<u64>],
    args: &Args,
    ef: usize,
    clients: usize,
) -> Measured {
    let k = args.k;
    for query in 0..args.warmup.min(test.len()) {
        shard.search(request(vector, test.row(query), k, ef)).expect("a warm-up search");
    }
    let started = Instant::now();
    let answers: Vec<ClientAnswers> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                scope.spawn(move || {
                    let mut latencies = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
                    let mut returned = Vec::with_capacity(test.len() / clients + 1);
                    for query in (client..test.len()).step_by(clients) {
                        let sent = Instant::now();
                        let hits = shard.search(request(vector, test.row(query), k, ef)).expect("a search");
                        let latency = sent.elapsed();
                        latencies.record(latency.as_nanos() as u64).unwrap();
                        returned.push((query, hits.iter().map(|hit| point_id(hit.id)).collect()));
                    }
                    (latencies, returned)
                })
            })
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    let seconds = started.elapsed().as_secs_f64();

    let mut latencies = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
    let mut recall_sum = 0.0;
    let mut queries = 0;
    for (client_latencies, returned) in &answers {
        latencies.add(client_latencies).unwrap();
        for (query, ids) in returned {
            recall_sum += recall(ids, &truth[*query], k);
            queries += 1;
        }
    }
    let ms = |quantile| latencies.value_at_quantile(quantile) as f64 / 1e6;
    Measured { qps: queries as f64 / seconds, p50_ms: ms(0.5), p99_ms: ms(0.99), recall: recall_sum / queries as f64 }
}

/// Correct results among the first `k` returned (each id once) over the first `k` true ids.
fn recall(returned: &[u64], truth: &[u64], k: usize) -> f64 {
    let top = &truth[..truth.len().min(k)];
    if top.is_empty() {
        return 1.0;
    }
    let mut seen = Vec::with_capacity(k);
    for id in returned.iter().take(k) {
        if !seen.contains(id) && top.contains(id) {
            seen.push(*id);
        }
    }
    seen.len() as f64 / top.len() as f64
}

fn point_id(id: PointId) -> u64 {
    match id {
        PointId::NumId(id) => id,
        PointId::Uuid(id) => panic!("the engine returned UUID {id}, the dataset has numeric ids"),
    }
}

/// The record batches of a Parquet file.
fn batches(path: &Path) -> impl Iterator<Item = RecordBatch> {
    let file = File::open(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|builder| builder.with_batch_size(READ_BATCH_ROWS).build())
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .map(|batch| batch.unwrap())
}

/// Every row's id and vector of `column` (or of the first float32 list column).
fn read_vectors(path: &Path, column: Option<&str>) -> VectorColumn {
    let mut read = VectorColumn { column: String::new(), dim: 0, ids: Vec::new(), values: Vec::new() };
    for batch in batches(path) {
        if read.column.is_empty() {
            read.column = match column {
                Some(column) => column.to_owned(),
                None => batch
                    .schema()
                    .fields()
                    .iter()
                    .find(|field| is_float_list(field.data_type()))
                    .unwrap_or_else(|| panic!("{}: no float32 list column", path.display()))
                    .name()
                    .clone(),
            };
        }
        read.ids.extend(ids(path, batch.column_by_name("id").expect("an `id` column")));
        let vectors = batch.column_by_name(&read.column).unwrap_or_else(|| panic!("no column `{}`", read.column));
        for row in 0..vectors.len() {
            assert!(vectors.is_valid(row), "{}: a null vector", path.display());
            let values = list_value(vectors, row);
            let values = values.as_primitive_opt::<Float32Type>().expect("float32 components");
            if read.dim == 0 {
                read.dim = values.len();
            }
            assert_eq!(values.len(), read.dim, "{}: vectors of different dimensions", path.display());
            read.values.extend_from_slice(values.values());
        }
    }
    read.values.shrink_to_fit();
    read
}

fn is_float_list(data_type: &DataType) -> bool {
    if let DataType::FixedSizeList(item, _) | DataType::List(item) | DataType::LargeList(item) = data_type {
        item.data_type() == &DataType::Float32
    } else {
        false
    }
}

/// Row `row` of a list column, whatever its kind of list.
fn list_value(column: &ArrayRef, row: usize) -> ArrayRef {
    if let Some(list) = column.as_fixed_size_list_opt() {
        list.value(row)
    } else if let Some(list) = column.as_list_opt::<i32>() {
        list.value(row)
    } else if let Some(list) = column.as_list_opt::<i64>() {
        list.value(row)
    } else {
        panic!("expected a list column, found {}", column.data_type())
    }
}

/// An id column of int64 or uint64 as point ids.
fn ids(path: &Path, column: &dyn Array) -> Vec<u64> {
    if let Some(ids) = column.as_primitive_opt::<Int64Type>() {
        ids.values().iter().map(|id| u64::try_from(*id).expect("a non-negative id")).collect()
    } else if let Some(ids) = column.as_primitive_opt::<UInt64Type>() {
        ids.values().to_vec()
    } else {
        panic!("{}: ids must be int64 or uint64, found {}", path.display(), column.data_type())
    }
}

/// `neighbors.parquet`: each query id with its true neighbours, closest first.
fn read_neighbors(path: &Path) -> HashMap<u64, Vec<u64>> {
    let mut truth = HashMap::new();
    for batch in batches(path) {
        let query_ids = ids(path, batch.column_by_name("id").expect("an `id` column"));
        let lists = batch.column_by_name("neighbors_id").expect("a `neighbors_id` column");
        for (row, query) in query_ids.into_iter().enumerate() {
            truth.insert(query, ids(path, &list_value(lists, row)));
        }
    }
    truth
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
    format!("{:.0} MiB ({:.2} GB)", kib as f64 / 1024.0, kib as f64 * 1024.0 / 1e9)
}
