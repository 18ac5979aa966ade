//! `qbench dataset generate`: a synthetic clustered dataset with exact neighbours.

use qbench_domain::synthetic::SyntheticSpec;
use qbench_service::synthetic::synthetic_dataset;
use qbench_storage::DatasetWriter;

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
    let dataset = tokio::task::spawn_blocking(move || synthetic_dataset(&spec, k))
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
