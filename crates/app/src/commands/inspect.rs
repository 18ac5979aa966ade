//! `qbench dataset inspect`: what a dataset's Parquet footers say.

use qbench_domain::SchemaConfig;
use qbench_storage::DatasetReader;

use crate::cli::InspectArgs;
use crate::commands::{CommandError, local};
use crate::settings::Settings;

/// Prints the dataset's layout, files and columns.
pub async fn run(args: InspectArgs, settings: &Settings) -> Result<(), CommandError> {
    let (uri, root) = local::resolve(&args.uri)?;
    let storage = local::storage(settings, root, settings.data_dir.join("results"))?;
    let source = local::source(&uri, settings)?;
    let schema =
        SchemaConfig { scalar_fields: Vec::new(), vectors: args.vectors.map(|list| list.0).unwrap_or_default() };
    let inspection = storage.inspect(&source, &schema).await.map_err(CommandError::new)?;
    println!(
        "{uri}: {:?} layout, {} train rows, {} test rows, {} bytes",
        inspection.layout, inspection.train_rows, inspection.test_rows, inspection.bytes
    );
    for file in &inspection.files {
        println!(
            "  {:<9} {:>12} rows {:>6} row groups {:>14} bytes  {}",
            format!("{:?}", file.role).to_lowercase(),
            file.rows,
            file.row_groups,
            file.bytes,
            file.location
        );
    }
    println!("columns:");
    for column in &inspection.columns {
        println!("  {:<24} {}{}", column.name, column.data_type, if column.nullable { " (nullable)" } else { "" });
    }
    Ok(())
}
