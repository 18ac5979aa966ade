//! Parquet's [`AsyncFileReader`] over an [`ObjectStore`]: footer and range requests for one file.
//!
//! `parquet` 60 deprecates its own `ParquetObjectReader` in favour of implementing the trait
//! directly; knowing the file size from the listing saves the request that would find it.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

/// How much of a file's end is fetched at once, hoping the whole footer is in it: one request
/// instead of two for all but very wide files.
const FOOTER_SIZE_HINT: usize = 64 * 1024;

/// Reads one object of a store as a Parquet file of a known size.
#[derive(Debug, Clone)]
pub(crate) struct ObjectReader {
    /// The store.
    store: Arc<dyn ObjectStore>,
    /// The object.
    path: Path,
    /// Its size in bytes.
    size: u64,
}

impl ObjectReader {
    /// A reader of the `size` bytes at `path`.
    pub(crate) fn new(store: Arc<dyn ObjectStore>, path: Path, size: u64) -> Self {
        Self { store, path, size }
    }
}

/// Keeps the store's error inside, so it can be mapped to not found, refused or unreachable.
fn external(error: object_store::Error) -> ParquetError {
    ParquetError::External(Box::new(error))
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move { self.store.get_range(&self.path, range).await.map_err(external) }.boxed()
    }

    fn get_byte_ranges(&mut self, ranges: Vec<Range<u64>>) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move { self.store.get_ranges(&self.path, &ranges).await.map_err(external) }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(FOOTER_SIZE_HINT))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
