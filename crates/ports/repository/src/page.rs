//! Pagination of list queries.

/// A window of a list: skip `offset` items, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Maximum items returned.
    pub limit: u64,
    /// Items skipped.
    pub offset: u64,
}

impl Page {
    /// Items per page when the caller says nothing.
    pub const DEFAULT_LIMIT: u64 = 50;
    /// The largest page a caller may ask for.
    pub const MAX_LIMIT: u64 = 1000;
}

impl Default for Page {
    fn default() -> Self {
        Self { limit: Self::DEFAULT_LIMIT, offset: 0 }
    }
}

/// One page of a list and the size of the whole list.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    /// The items of the page, in list order.
    pub items: Vec<T>,
    /// How many items the whole list has.
    pub total: u64,
}
