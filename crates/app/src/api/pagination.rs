//! `?limit=&offset=` (or `?page=&page_size=`) query parameters.

use apistos::ApiComponent;
use qbench_repository::Page;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::problem::ApiError;

/// Which page of a list to return. `page`/`page_size` (1-based) are accepted as another
/// spelling of `offset`/`limit`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct PageQuery {
    /// Items per page: 1 to 1000, default 50.
    pub limit: Option<u64>,
    /// Items to skip, default 0.
    pub offset: Option<u64>,
    /// 1-based page number (with `page_size`).
    pub page: Option<u64>,
    /// Same as `limit`.
    pub page_size: Option<u64>,
}

/// The largest offset accepted: databases count rows in signed 64-bit integers, and the links to
/// the next pages must not overflow either.
pub const MAX_OFFSET: u64 = i64::MAX as u64 / 2;

impl PageQuery {
    /// The page asked for; a 400 naming the parameter when it is out of range.
    pub fn to_page(&self) -> Result<Page, ApiError> {
        let (limit_field, limit) = match (self.limit, self.page_size) {
            (Some(limit), _) => ("limit", limit),
            (None, Some(size)) => ("page_size", size),
            (None, None) => ("limit", Page::DEFAULT_LIMIT),
        };
        if !(1..=Page::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_parameter(limit_field, format!("{limit} is outside 1..={}", Page::MAX_LIMIT)));
        }
        let (offset_field, offset) = match (self.offset, self.page) {
            (Some(offset), _) => ("offset", Some(offset)),
            (None, Some(0)) => return Err(ApiError::bad_parameter("page", "pages are numbered from 1")),
            (None, Some(page)) => ("page", (page - 1).checked_mul(limit)),
            (None, None) => ("offset", Some(0)),
        };
        match offset {
            Some(offset) if offset <= MAX_OFFSET => Ok(Page { limit, offset }),
            _ => Err(ApiError::bad_parameter(
                offset_field,
                format!("the page starts beyond the largest offset, {MAX_OFFSET}"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_and_page_size_are_another_spelling_of_offset_and_limit() {
        let query = PageQuery { page: Some(3), page_size: Some(20), ..PageQuery::default() };
        assert_eq!(query.to_page().unwrap(), Page { limit: 20, offset: 40 });
    }

    #[test]
    fn limits_outside_the_range_name_the_parameter() {
        let query = PageQuery { limit: Some(1001), ..PageQuery::default() };
        let problem = query.to_page().unwrap_err();
        assert!(problem.problem().detail.starts_with("limit:"), "{}", problem.problem().detail);
    }
}
