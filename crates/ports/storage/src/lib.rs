//! The object-storage port: reading datasets and writing results, without naming the library that
//! does it.
//!
//! A [`DatasetSource`] says where a dataset is (`s3://`, `https://`, `file://` or a path under a data
//! root) and with which [`S3Credentials`]. [`DatasetReader::inspect`] reads only the Parquet footers
//! into a [`DatasetInspection`]; [`DatasetReader::open_points`] streams [`PointBatch`]es of the train
//! or test part; [`DatasetReader::read_neighbors`] reads a vector's ground-truth file when the
//! layout has one. [`DatasetWriter`] writes a dataset (the synthetic generator uses it) and [`ResultWriter`]
//! stores a run's results.
#![deny(missing_docs)]

mod archive;
mod batch;
mod error;
mod inspection;
mod reader;
mod source;
mod writer;

pub use archive::{ArchiveSink, ArchiveStore};
pub use batch::{NeighborLists, PointBatch};
pub use error::StorageError;
pub use inspection::{ColumnInfo, DatasetFile, DatasetInspection, DatasetLayout, FileRole};
pub use reader::{DatasetPart, DatasetReader, NeighborsFile, PointStream};
pub use source::{DatasetSource, S3Credentials};
pub use writer::{
    Artifact, ArtifactChunks, DatasetWriter, GeneratedDataset, QueryRecord, ResultWriter, StoredResult, TrueNeighbors,
};
