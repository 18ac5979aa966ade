//! The query-string extractor: a bad parameter becomes a 400 that names it.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use apistos::ApiComponent;
use apistos::paths::Parameter;
use apistos::reference_or::ReferenceOr;
use futures_util::future::{Ready, ready};
use serde::de::DeserializeOwned;

use crate::api::problem::ApiError;

/// Query parameters of type `T`; unknown parameters are ignored.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T> QueryParams<T> {
    /// The parsed parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for QueryParams<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Parses a query string as `T`, naming the parameter at fault.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let field = error.path().to_string();
        let message = error.into_inner().to_string();
        let value = url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| *key == field)
            .map(|(_, value)| format!("`{value}`: "))
            .unwrap_or_default();
        ApiError::bad_parameter(field, format!("{value}{message}"))
    })
}

impl<T: DeserializeOwned> FromRequest for QueryParams<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(parse_query(req.query_string()).map(QueryParams))
    }
}

impl<T: ApiComponent> ApiComponent for QueryParams<T> {
    fn required() -> bool {
        <actix_web::web::Query<T> as ApiComponent>::required()
    }

    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        <actix_web::web::Query<T> as ApiComponent>::child_schemas()
    }

    fn raw_schema() -> Option<ReferenceOr<apistos::Schema>> {
        <actix_web::web::Query<T> as ApiComponent>::raw_schema()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        <actix_web::web::Query<T> as ApiComponent>::schema()
    }

    fn request_body() -> Option<apistos::paths::RequestBody> {
        None
    }

    fn parameters() -> Vec<Parameter> {
        <actix_web::web::Query<T> as ApiComponent>::parameters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pagination::PageQuery;

    #[test]
    fn a_malformed_number_names_its_parameter_and_value() {
        let problem = parse_query::<PageQuery>("offset=1&limit=abc").unwrap_err();
        assert!(problem.problem().detail.starts_with("limit: `abc`"), "{}", problem.problem().detail);
    }
}
