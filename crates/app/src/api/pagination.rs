//! `?limit=&offset=` (or `?page=&page_size=`) query parameters.

use apistos::ApiComponent;
use qbench_repository::Page;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::api::problem::ApiError;

/// Which page of a list to return. `page`/`page_size` (1-based) are accepted as another
/// spelling of `offset`/`limit`. The documented ranges are exactly the accepted ones.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema, ApiComponent)]
pub struct PageQuery {
    /// Items per page: 1 to 1000, default 50.
    #[schemars(range(min = 1, max = "Page::MAX_LIMIT"))]
    pub limit: Option<u64>,
    /// Items to skip, default 0.
    #[schemars(range(min = 0, max = "MAX_OFFSET"))]
    pub offset: Option<u64>,
    /// 1-based page number (with `page_size`); ignored when `offset` is given.
    #[schemars(range(min = 1, max = "MAX_PAGE"))]
    pub page: Option<u64>,
    /// Same as `limit`; ignored when `limit` is given.
    #[schemars(range(min = 1, max = "Page::MAX_LIMIT"))]
    pub page_size: Option<u64>,
}

/// The largest offset accepted, 10^15: far below what databases count in signed 64-bit integers
/// (the links to the next pages cannot overflow either), and exact as a JSON number, so the
/// document states the very bound the server applies.
pub const MAX_OFFSET: u64 = 1_000_000_000_000_000;

/// The largest page number accepted: the last page that starts within `MAX_OFFSET` whatever the
/// page size, so that every page the document allows is answered.
pub const MAX_PAGE: u64 = MAX_OFFSET / Page::MAX_LIMIT + 1;

impl PageQuery {
    /// The page asked for; a 400 naming the parameter when it is out of range. Every parameter
    /// given is checked against its documented range, even one another parameter overrides.
    pub fn to_page(&self) -> Result<Page, ApiError> {
        let ranges = [
            ("limit", self.limit, 1..=Page::MAX_LIMIT),
            ("page_size", self.page_size, 1..=Page::MAX_LIMIT),
            ("offset", self.offset, 0..=MAX_OFFSET),
            ("page", self.page, 1..=MAX_PAGE),
        ];
        for (field, value, range) in ranges {
            if let Some(value) = value
                && !range.contains(&value)
            {
                let detail = if field == "page" && value == 0 {
                    "pages are numbered from 1".to_owned()
                } else {
                    format!("{value} is outside {}..={}", range.start(), range.end())
                };
                return Err(ApiError::bad_parameter(field, detail));
            }
        }
        let limit = self.limit.or(self.page_size).unwrap_or(Page::DEFAULT_LIMIT);
        // Within their ranges, `page × limit` stays within `MAX_OFFSET`.
        let offset = match (self.offset, self.page) {
            (Some(offset), _) => offset,
            (None, Some(page)) => (page - 1) * limit,
            (None, None) => 0,
        };
        Ok(Page { limit, offset })
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
    fn the_last_page_allowed_starts_within_the_largest_offset() {
        let query = PageQuery { page: Some(MAX_PAGE), page_size: Some(Page::MAX_LIMIT), ..PageQuery::default() };
        assert!(query.to_page().unwrap().offset <= MAX_OFFSET);
        let beyond = PageQuery { page: Some(MAX_PAGE + 1), page_size: Some(1), ..PageQuery::default() };
        assert!(beyond.to_page().unwrap_err().problem().detail.starts_with("page:"));
    }

    #[test]
    fn limits_outside_the_range_name_the_parameter() {
        let query = PageQuery { limit: Some(1001), ..PageQuery::default() };
        let problem = query.to_page().unwrap_err();
        assert!(problem.problem().detail.starts_with("limit:"), "{}", problem.problem().detail);
    }
}
