//! `qbench dataset generate`: a synthetic clustered dataset with exact neighbours.

use qbench_domain::neighbors::{TopK, offer_batch};
use qbench_domain::synthetic::{SyntheticSpec, generate as generate_vectors};
use qbench_domain::{PointId, SchemaConfig};
use qbench_storage::{DatasetWriter, GeneratedDataset, PointBatch};

use crate::cli::GenerateArgs;
use crate::commands::{CommandError, local};
use crate::settings::Settings;

/// Writes the dataset `args` describe and prints where.
pub async fn run(args: GenerateArgs, settings: &Settings) -> Result<(), CommandError> {
    if args.rows == 0 || args.queries == 0 || args.neighbors == 0 {
        return Err(CommandError::new("--rows, --queries and --neighbors must be positive"));
    }
    if !args.out.contains("://") {
        std::fs::create_dir_all(&args.out).map_err(|err| CommandError::new(format!("--out {}: {err}", args.out)))?;
    }
    let (uri, root) = local::resolve(&args.out)?;
    let uri = if uri.ends_with('/') { uri } else { format!("{uri}/") };
    let spec = SyntheticSpec {
        rows: args.rows,
        queries: args.queries,
        vectors: args.vectors.0.clone(),
        clusters: args.clusters.unwrap_or((args.rows / 500).max(8)),
        seed: args.seed,
    };
    let k = args.neighbors.min(args.rows);
    let dataset = tokio::task::spawn_blocking(move || build(&spec, k))
        .await
        .map_err(|err| CommandError::new(format!("generation failed: {err}")))?;
    let storage = local::storage(settings, root, settings.data_dir.join("results"))?;
    let source = local::source(&uri, settings)?;
    storage.write_dataset(&source, &dataset).await.map_err(CommandError::new)?;
    println!(
        "wrote {} points, {} queries and their {} exact neighbours ({}) to {uri}",
        args.rows,
        args.queries,
        k,
        args.vectors.0.iter().map(|(name, v)| format!("{name}:{}:{}", v.dim, v.distance)).collect::<Vec<_>>().join(",")
    );
    Ok(())
}

/// The dataset in memory: points with a `cluster` payload, queries, and the exact neighbours of
/// the first vector (the neighbors file of the directory layout has one list per query).
fn build(spec: &SyntheticSpec, k: usize) -> GeneratedDataset {
    let vectors = generate_vectors(spec);
    let train = PointBatch {
        first_row: 0,
        ids: (0..spec.rows as u64).map(PointId::Num).collect(),
        vectors: vectors.points,
        payloads: vectors
            .point_clusters
            .iter()
            .map(|cluster| serde_json::Map::from_iter([("cluster".to_owned(), serde_json::json!(cluster))]))
            .collect(),
    };
    let test = PointBatch {
        first_row: 0,
        ids: (0..spec.queries as u64).map(PointId::Num).collect(),
        vectors: vectors.queries,
        payloads: vec![serde_json::Map::new(); spec.queries],
    };
    let neighbors = match spec.vectors.iter().next() {
        None => Vec::new(),
        Some((name, vector)) => {
            let dim = vector.dim.get() as usize;
            let queries: Vec<&[f32]> = test.vectors[name].chunks_exact(dim).collect();
            let mut tops = vec![TopK::new(k); queries.len()];
            let threads = std::thread::available_parallelism().map_or(1, usize::from);
            let chunk = queries.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                for (query_chunk, top_chunk) in queries.chunks(chunk).zip(tops.chunks_mut(chunk)) {
                    let (ids, values) = (&train.ids, &train.vectors[name]);
                    scope.spawn(move || offer_batch(vector.distance, dim, ids, values, query_chunk, top_chunk));
                }
            });
            test.ids
                .iter()
                .zip(tops)
                .map(|(id, top)| (*id, top.into_sorted().into_iter().map(|(id, _)| id).collect()))
                .collect()
        }
    };
    let schema = SchemaConfig { scalar_fields: vec!["cluster".to_owned()], vectors: spec.vectors.clone() };
    GeneratedDataset { schema, train, test, neighbors }
}
