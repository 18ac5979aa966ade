//! Datasets and experiments: what is registered, and a form that creates an experiment (and
//! triggers its run) through the same conversion and validation as `POST /api/v1/experiments`,
//! showing every field error next to its field.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::web::{Data, Form, Path};
use maud::{Markup, html};
use qbench_domain::{Caller, DatasetId, ExperimentId, ExperimentSpec, Violation};
use qbench_repository::Page;
use qbench_service::ServiceError;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::api::problem::ApiError;
use crate::auth::Authenticated;
use crate::dashboard::page::{error_page, page};
use crate::dto::experiment::ExperimentRequest;
use crate::state::AppState;

/// Items listed per table.
const LISTED: u64 = 100;

/// The form as posted: every field as typed (empty when left blank).
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct ExperimentForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    dataset_id: String,
    #[serde(default)]
    connection_id: String,
    #[serde(default)]
    m: String,
    #[serde(default)]
    ef_construct: String,
    #[serde(default)]
    hnsw_ef: String,
    #[serde(default)]
    k: String,
    #[serde(default)]
    run_now: Option<String>,
}

/// Errors by form field; those no field shows are under `""`.
type FieldErrors = BTreeMap<&'static str, Vec<String>>;

/// The form field showing an API field's violation: the form's fields carry the API's names, and
/// `m`/`ef_construct` apply to every vector of the dataset.
fn form_field(path: &str) -> &'static str {
    const EXACT: [&str; 4] = ["name", "dataset_id", "connection_id", "search_config.k"];
    if let Some(field) = EXACT.iter().find(|field| path == **field) {
        return match *field {
            "search_config.k" => "k",
            other => other,
        };
    }
    if path.starts_with("search_config.hnsw_ef") {
        "hnsw_ef"
    } else if path.starts_with("optimizer_config.indexing.") && path.ends_with(".m") {
        "m"
    } else if path.starts_with("optimizer_config.indexing.") && path.ends_with(".ef_construct") {
        "ef_construct"
    } else {
        ""
    }
}

fn add(errors: &mut FieldErrors, violations: Vec<Violation>) {
    for violation in violations {
        let field = form_field(&violation.field);
        let message =
            if field.is_empty() { format!("{}: {}", violation.field, violation.message) } else { violation.message };
        errors.entry(field).or_default().push(message);
    }
}

/// `GET /ui/experiments`.
pub(crate) async fn page_handler(state: Data<AppState>, Authenticated(caller): Authenticated) -> HttpResponse {
    let form = ExperimentForm { k: "10".to_owned(), hnsw_ef: "32, 64, 128".to_owned(), ..ExperimentForm::default() };
    render(&state, &caller, StatusCode::OK, &form, &FieldErrors::new()).await
}

/// `POST /ui/experiments`: creates the experiment, and its run when asked.
pub(crate) async fn create(
    state: Data<AppState>,
    Authenticated(caller): Authenticated,
    form: Form<ExperimentForm>,
) -> HttpResponse {
    let form = form.into_inner();
    match submit(&state, &caller, &form).await {
        Ok(Ok(location)) => HttpResponse::SeeOther().insert_header((LOCATION, location)).finish(),
        Ok(Err(errors)) => render(&state, &caller, StatusCode::UNPROCESSABLE_ENTITY, &form, &errors).await,
        Err(error) => error_page(error, Some(&caller)),
    }
}

/// `POST /ui/experiments/{id}/runs`: triggers a run, then shows it.
pub(crate) async fn run(state: Data<AppState>, Authenticated(caller): Authenticated, path: Path<Uuid>) -> HttpResponse {
    match state.runs.create(&caller, ExperimentId::from(path.into_inner()), None).await {
        Ok(run) => HttpResponse::SeeOther().insert_header((LOCATION, format!("/ui/runs/{}", run.id()))).finish(),
        Err(error) => error_page(ApiError::from(error), Some(&caller)),
    }
}

/// Where to go next, or the errors to show next to their fields.
async fn submit(
    state: &AppState,
    caller: &Caller,
    form: &ExperimentForm,
) -> Result<Result<String, FieldErrors>, ApiError> {
    let mut errors = FieldErrors::new();
    let mut number = |field: &'static str, text: &str| -> Option<u64> {
        text.trim()
            .parse::<u64>()
            .map_err(|_| errors.entry(field).or_default().push(format!("`{}` is not a whole number", text.trim())))
            .ok()
    };
    let m = (!form.m.trim().is_empty()).then(|| number("m", &form.m)).flatten();
    let ef_construct =
        (!form.ef_construct.trim().is_empty()).then(|| number("ef_construct", &form.ef_construct)).flatten();
    let k = number("k", &form.k);
    let hnsw_ef: Vec<u64> = form
        .hnsw_ef
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .filter_map(|part| number("hnsw_ef", part))
        .collect();
    let mut indexing = Map::new();
    if let Ok(id) = Uuid::parse_str(form.dataset_id.trim())
        && let Ok(dataset) = state.datasets.get(caller, DatasetId::from(id)).await
    {
        let mut index = Map::new();
        if let Some(m) = m {
            index.insert("m".to_owned(), json!(m));
        }
        if let Some(ef_construct) = ef_construct {
            index.insert("ef_construct".to_owned(), json!(ef_construct));
        }
        if !index.is_empty() {
            for vector in dataset.spec.schema_config.vectors.keys() {
                indexing.insert(vector.to_string(), Value::Object(index.clone()));
            }
        }
    }
    for (field, text) in [("dataset_id", &form.dataset_id), ("connection_id", &form.connection_id)] {
        if Uuid::parse_str(text.trim()).is_err() {
            errors.entry(field).or_default().push("choose one".to_owned());
        }
    }
    let request = json!({
        "name": form.name.trim(),
        "dataset_id": Uuid::parse_str(form.dataset_id.trim()).unwrap_or_default(),
        "connection_id": Uuid::parse_str(form.connection_id.trim()).unwrap_or_default(),
        "optimizer_config": {"indexing": indexing},
        "search_config": {"k": k.unwrap_or(10), "hnsw_ef": hnsw_ef},
    });
    let request: ExperimentRequest = serde_json::from_value(request).map_err(|error| ApiError::internal(&error))?;
    // Every error at once: what the form could not read, and what the API refuses of the rest.
    let unread: Vec<&'static str> = errors.keys().copied().collect();
    let violations = match ExperimentSpec::try_from(request) {
        Ok(spec) if errors.is_empty() => Ok(spec),
        Ok(spec) => Err(state.experiments.validate(caller, &spec).await?.errors),
        Err(violations) => Err(violations),
    };
    let spec = match violations {
        Ok(spec) => spec,
        Err(violations) => {
            add(&mut errors, violations.into_iter().filter(|v| !unread.contains(&form_field(&v.field))).collect());
            return Ok(Err(errors));
        }
    };
    let experiment = match state.experiments.create(caller, spec).await {
        Ok((experiment, _)) => experiment,
        Err(ServiceError::Invalid(violations)) => {
            add(&mut errors, violations);
            return Ok(Err(errors));
        }
        Err(other) => return Err(other.into()),
    };
    if form.run_now.is_some() {
        let run = state.runs.create(caller, experiment.id, None).await?;
        return Ok(Ok(format!("/ui/runs/{}", run.id())));
    }
    Ok(Ok("/ui/experiments".to_owned()))
}

/// The field's errors, next to it.
fn field_errors(errors: &FieldErrors, field: &str) -> Markup {
    html! { @for message in errors.get(field).into_iter().flatten() { span.field-error data-field=(field) { (message) } } }
}

async fn render(
    state: &AppState,
    caller: &Caller,
    status: StatusCode,
    form: &ExperimentForm,
    errors: &FieldErrors,
) -> HttpResponse {
    let page_of = Page { limit: LISTED, offset: 0 };
    let (datasets, experiments, connections) = match (
        state.datasets.list(caller, page_of).await,
        state.experiments.list(caller, page_of).await,
        state.connections.list(caller, page_of).await,
    ) {
        (Ok(datasets), Ok(experiments), Ok(connections)) => (datasets.items, experiments.items, connections.items),
        (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => return error_page(error.into(), Some(caller)),
    };
    let dataset_name =
        |id: DatasetId| datasets.iter().find(|d| d.id == id).map_or_else(|| id.to_string(), |d| d.spec.name.clone());
    let body = html! {
        h1 { "Datasets & experiments" }
        h2 { "Datasets" }
        @if datasets.is_empty() { p.muted { "None yet: register one with " code { "POST /api/v1/datasets" } " (see the README)." } }
        @else {
            div.table-wrap { table.datasets {
                thead { tr { th { "name" } th { "source" } th { "vectors" } th { "rows" } } }
                tbody { @for dataset in &datasets { tr {
                    td { (dataset.spec.name) } td { code { (dataset.spec.source_uri) } }
                    td { @for (name, vector) in &dataset.spec.schema_config.vectors { div { (name) " · " (vector.dim) " · " (vector.distance) } } }
                    td.num { (dataset.inspection.as_ref().map_or(String::new(), |inspection| inspection.train_rows.to_string())) }
                } } }
            } }
        }
        h2 { "Connections" }
        div.table-wrap { table.connections {
            thead { tr { th { "name" } th { "url" } th { "" } } }
            tbody { @for connection in &connections { tr data-connection=(connection.id) {
                td { (connection.name) } td { code { (connection.url) } }
                td { form method="post" action={ "/ui/connections/" (connection.id) "/test" } style="margin:0" { button type="submit" { "Test" } } }
            } } }
        } }
        h2 { "Experiments" }
        div.table-wrap { table.experiments {
            thead { tr { th { "name" } th { "dataset" } th { "hnsw_ef" } th { "k" } th { "" } } }
            tbody { @for experiment in &experiments { tr data-experiment=(experiment.id) {
                td { a href={ "/?experiment_id=" (experiment.id) } { (experiment.spec.name) } }
                td { (dataset_name(experiment.spec.dataset_id)) }
                td { (format!("{:?}", experiment.spec.search_config.hnsw_ef)) }
                td.num { (experiment.spec.search_config.k) }
                td { form method="post" action={ "/ui/experiments/" (experiment.id) "/runs" } style="margin:0" { button type="submit" { "Run" } } }
            } } }
        } }
        h2 #new { "New experiment" }
        @if let Some(general) = errors.get("") { div.problem { @for message in general { div { (message) } } } }
        form.stack method="post" action="/ui/experiments" novalidate {
            label { "Name" input name="name" value=(form.name); (field_errors(errors, "name")) }
            label { "Dataset" select name="dataset_id" {
                @if datasets.is_empty() { option value="" { "— register a dataset first —" } }
                @for dataset in &datasets { option value=(dataset.id) selected[form.dataset_id == dataset.id.to_string()] { (dataset.spec.name) } }
            } (field_errors(errors, "dataset_id")) }
            label { "Qdrant" select name="connection_id" {
                @for connection in &connections { option value=(connection.id) selected[form.connection_id == connection.id.to_string()] { (connection.name) " (" (connection.url) ")" } }
            } (field_errors(errors, "connection_id")) }
            label { "m (graph degree, every vector; blank for Qdrant's default)" input name="m" value=(form.m) inputmode="numeric"; (field_errors(errors, "m")) }
            label { "ef_construct (blank for Qdrant's default)" input name="ef_construct" value=(form.ef_construct) inputmode="numeric"; (field_errors(errors, "ef_construct")) }
            label { "hnsw_ef (comma-separated)" input name="hnsw_ef" value=(form.hnsw_ef); (field_errors(errors, "hnsw_ef")) }
            label { "k (results per query)" input name="k" value=(form.k) inputmode="numeric"; (field_errors(errors, "k")) }
            label style="display:flex;gap:6px;font-weight:400" { input type="checkbox" name="run_now" value="1" checked[form.run_now.is_some() || status == StatusCode::OK]; "run it now" }
            div { button type="submit" { "Create" } }
        }
    };
    page(status, "Datasets & experiments", Some(caller), None, body)
}
