//! Success responses that carry headers: `201 Created` and `202 Accepted` with `Location`, and
//! paginated lists with `X-Total-Count` and RFC 8288 `Link`.

use std::collections::BTreeMap;

use actix_web::body::BoxBody;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, Responder};
use apistos::ApiComponent;
use apistos::paths::{Header, MediaType, ParameterDefinition, Response, Responses};
use apistos::reference_or::ReferenceOr;
use qbench_repository::Page;
use schemars::schema::{ArrayValidation, InstanceType, SchemaObject, SingleOrVec};
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

/// A reference to `T`'s component schema, or its inline schema.
fn schema_of<T: ApiComponent>() -> Option<ReferenceOr<apistos::Schema>> {
    T::schema()
        .map(|(name, _)| ReferenceOr::Reference { _ref: format!("#/components/schemas/{name}") })
        .or_else(T::raw_schema)
}

/// `schema` as a schemars schema (a `$ref` stays a `$ref`).
fn inline(schema: ReferenceOr<apistos::Schema>) -> apistos::Schema {
    match schema {
        ReferenceOr::Reference { _ref } => apistos::Schema::new_ref(_ref),
        ReferenceOr::Object(schema) => schema,
    }
}

/// A response header with a plain schema of `instance_type`.
fn header(description: &str, instance_type: InstanceType, format: Option<&str>) -> ReferenceOr<Header> {
    let schema = SchemaObject {
        instance_type: Some(instance_type.into()),
        format: format.map(str::to_owned),
        ..Default::default()
    };
    ReferenceOr::Object(Header {
        required: Some(true),
        description: Some(description.to_owned()),
        definition: Some(ParameterDefinition::Schema(Box::new(ReferenceOr::Object(schema.into())))),
        ..Default::default()
    })
}

/// The OpenAPI response for `status` with a JSON body of `schema` and `headers`.
fn documented(
    status: StatusCode,
    schema: ReferenceOr<apistos::Schema>,
    headers: BTreeMap<String, ReferenceOr<Header>>,
) -> Responses {
    let response = Response {
        description: status.canonical_reason().unwrap_or_default().to_owned(),
        content: BTreeMap::from([(
            "application/json".to_owned(),
            MediaType { schema: Some(schema), ..Default::default() },
        )]),
        headers,
        ..Default::default()
    };
    Responses {
        responses: BTreeMap::from([(status.as_str().to_owned(), ReferenceOr::Object(response))]),
        ..Default::default()
    }
}

/// The `Location` header of a `Located` answer.
fn location_header() -> BTreeMap<String, ReferenceOr<Header>> {
    BTreeMap::from([(
        "Location".to_owned(),
        header("Where the object lives, e.g. `/api/v1/runs/{id}`.", InstanceType::String, None),
    )])
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
        // own status filled in by `Accepted`.
        Some(documented(StatusCode::CREATED, schema_of::<T>()?, location_header()))
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
        Some(documented(StatusCode::ACCEPTED, schema_of::<T>()?, location_header()))
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
        // A bare JSON array of `T`: `Vec<T>`'s component is `T`'s own, so the array is spelled out
        // here (documenting the component alone made every list an object).
        let array = SchemaObject {
            instance_type: Some(InstanceType::Array.into()),
            array: Some(Box::new(ArrayValidation {
                items: Some(SingleOrVec::Single(Box::new(inline(schema_of::<T>()?)))),
                ..Default::default()
            })),
            ..Default::default()
        };
        let headers = BTreeMap::from([
            (
                "X-Total-Count".to_owned(),
                header("How many items the whole list has.", InstanceType::Integer, Some("int64")),
            ),
            (
                "Link".to_owned(),
                header("RFC 8288 links to the `first`, `prev`, `next` and `last` pages.", InstanceType::String, None),
            ),
        ]);
        Some(documented(StatusCode::OK, ReferenceOr::Object(array.into()), headers))
    }
}
