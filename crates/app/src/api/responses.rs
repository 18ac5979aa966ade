//! Success responses that carry headers: `201 Created` and `202 Accepted` with `Location`, and
//! paginated lists with `X-Total-Count` and RFC 8288 `Link`.

use std::collections::BTreeMap;

use actix_web::body::BoxBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::ApiComponent;
use apistos::paths::{MediaType, Response, Responses};
use apistos::reference_or::ReferenceOr;
use qbench_repository::Page;
use serde::Serialize;

/// A JSON body answered with `status` and a `Location` header.
pub struct Located<T> {
    status: StatusCode,
    location: String,
    body: T,
}

impl<T> Located<T> {
    /// `201 Created` at `location`.
    pub fn created(location: String, body: T) -> Self {
        Self { status: StatusCode::CREATED, location, body }
    }

    /// `202 Accepted`, to be followed at `location`.
    pub fn accepted(location: String, body: T) -> Self {
        Self { status: StatusCode::ACCEPTED, location, body }
    }
}

fn json_response(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder.content_type("application/json");
    builder
}

impl<T: Serialize> Responder for Located<T> {
    type Body = BoxBody;

    fn respond_to(self, _req: &HttpRequest) -> HttpResponse<BoxBody> {
        match serde_json::to_string(&self.body) {
            Ok(body) => json_response(self.status).insert_header((header::LOCATION, self.location)).body(body),
            Err(err) => actix_web::ResponseError::error_response(&crate::api::problem::ApiError::internal(&err)),
        }
    }
}

/// The OpenAPI response for `status` with `T`'s schema.
fn documented<T: ApiComponent>(status: StatusCode) -> Option<Responses> {
    let schema = T::schema()
        .map(|(name, _)| ReferenceOr::Reference { _ref: format!("#/components/schemas/{name}") })
        .or_else(T::raw_schema)?;
    let response = Response {
        description: status.canonical_reason().unwrap_or_default().to_owned(),
        content: BTreeMap::from([(
            "application/json".to_owned(),
            MediaType { schema: Some(schema), ..Default::default() },
        )]),
        ..Default::default()
    };
    Some(Responses {
        responses: BTreeMap::from([(status.as_str().to_owned(), ReferenceOr::Object(response))]),
        ..Default::default()
    })
}

impl<T: ApiComponent> ApiComponent for Located<T> {
    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        T::child_schemas()
    }

    fn raw_schema() -> Option<ReferenceOr<apistos::Schema>> {
        T::raw_schema()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        T::schema()
    }

    fn responses(_content_type: Option<String>) -> Option<Responses> {
        // Creation answers 201; the one 202 (run creation) is documented the same way, with its
        // own status filled in by `accepted_responses`.
        documented::<T>(StatusCode::CREATED)
    }
}

/// `202 Accepted` with a `Location`, documented as 202.
pub struct Accepted<T>(pub Located<T>);

impl<T: Serialize> Responder for Accepted<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        self.0.respond_to(req)
    }
}

impl<T: ApiComponent> ApiComponent for Accepted<T> {
    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        T::child_schemas()
    }

    fn raw_schema() -> Option<ReferenceOr<apistos::Schema>> {
        T::raw_schema()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        T::schema()
    }

    fn responses(_content_type: Option<String>) -> Option<Responses> {
        documented::<T>(StatusCode::ACCEPTED)
    }
}

/// One page of a list: a bare JSON array, with `X-Total-Count` and `Link` headers.
pub struct Paginated<T> {
    items: Vec<T>,
    total: u64,
    page: Page,
}

impl<T> Paginated<T> {
    /// The page `page` of a list of `total` items.
    pub fn new(items: Vec<T>, total: u64, page: Page) -> Self {
        Self { items, total, page }
    }
}

/// RFC 8288 links to the first, previous, next and last pages, keeping the other query parameters.
fn link_header(req: &HttpRequest, page: Page, total: u64) -> String {
    let others: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(key, _)| !matches!(key.as_ref(), "limit" | "offset" | "page" | "page_size"))
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect();
    let link = |offset: u64, rel: &str| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &others {
            query.append_pair(key, value);
        }
        query.append_pair("limit", &page.limit.to_string());
        query.append_pair("offset", &offset.to_string());
        format!("<{}?{}>; rel=\"{rel}\"", req.path(), query.finish())
    };
    let limit = page.limit.max(1);
    let last = if total == 0 { 0 } else { (total - 1) / limit * limit };
    let mut links = vec![link(0, "first")];
    if page.offset > 0 {
        links.push(link(page.offset.saturating_sub(limit), "prev"));
    }
    if page.offset.saturating_add(limit) < total {
        links.push(link(page.offset.saturating_add(limit), "next"));
    }
    links.push(link(last, "last"));
    links.join(", ")
}

impl<T: Serialize> Responder for Paginated<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        match serde_json::to_string(&self.items) {
            Ok(body) => json_response(StatusCode::OK)
                .insert_header(("X-Total-Count", self.total.to_string()))
                .insert_header((header::LINK, link_header(req, self.page, self.total)))
                .body(body),
            Err(err) => actix_web::ResponseError::error_response(&crate::api::problem::ApiError::internal(&err)),
        }
    }
}

impl<T: ApiComponent> ApiComponent for Paginated<T> {
    fn child_schemas() -> Vec<(String, ReferenceOr<apistos::Schema>)> {
        <Vec<T> as ApiComponent>::child_schemas()
    }

    fn raw_schema() -> Option<ReferenceOr<apistos::Schema>> {
        <Vec<T> as ApiComponent>::raw_schema()
    }

    fn schema() -> Option<(String, ReferenceOr<apistos::Schema>)> {
        <Vec<T> as ApiComponent>::schema()
    }

    fn responses(_content_type: Option<String>) -> Option<Responses> {
        documented::<Vec<T>>(StatusCode::OK)
    }
}
