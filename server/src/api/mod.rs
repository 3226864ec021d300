//! The REST API, one module per resource, each exporting `router()`. Routes are declared
//! through utoipa so the OpenAPI document is generated from the routes that are served.

mod accompaniment;
pub(crate) mod area_memo;
mod areas;
mod assignments;
mod audit;
mod auth;
mod conflicts;
mod dashboard;
mod history;
mod households;
mod import;
mod packed;
pub(crate) mod report_parts;
pub(crate) mod reports;
mod reviews;
mod rules;
mod search;
mod stats;
mod support;
pub mod sync;
mod targets;
mod users;

use crate::AppState;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

#[derive(OpenApi)]
#[openapi(
    info(title = "Đồng Hành API", description = "Sustainable poverty-reduction register: households, reviews, accompaniment, support and targets. Every error has the body `ErrorBody`."),
    servers((url = "/api")),
    modifiers(&BearerAuth),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// What utoipa's annotations do not say by themselves, applied to the whole generated
/// document once the routes are merged:
/// - every operation that reads a body or parameters documents its 400 answer (a body
///   that is not JSON, a wrong content type, an unknown query parameter: the extractors'
///   refusals, the same for every route), and every signed-in one its 401;
/// - a struct with a flattened part (`#[serde(flatten)]`, e.g. `Target` around
///   `TargetInput`) is one object with the properties of its parts: utoipa writes it as
///   `allOf`, whose parts keep `additionalProperties: false` from the input types
///   (`deny_unknown_fields`) and would then forbid each other's properties.
pub fn complete(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in openapi.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in ops.into_iter().flatten() {
            let reads_input =
                op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let answers = &mut op.responses.responses;
            if reads_input {
                answers.entry("400".into()).or_insert_with(|| {
                    error("The request could not be read: not JSON, a wrong content type, or an unknown or malformed parameter")
                });
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                answers
                    .entry("401".into())
                    .or_insert_with(|| error("Not signed in, or the session ended"));
                answers.entry("429".into()).or_insert_with(|| {
                    error("Too many of this user's heavy requests at once; retry after `Retry-After` seconds")
                });
            }
            answers.entry("503".into()).or_insert_with(|| {
                error("The server is too busy, or the work took too long; nothing was done")
            });
        }
    }
    if let Some(components) = openapi.components.as_mut() {
        let all = components.schemas.clone();
        for schema in components.schemas.values_mut() {
            if let RefOr::T(s) = schema
                && let Some(merged) = merge_all_of(s, &all)
            {
                *s = merged;
            }
        }
    }
}

/// An `allOf` of objects (inline or by reference) as one object, or `None` when it is
/// something else.
fn merge_all_of(
    schema: &utoipa::openapi::schema::Schema,
    all: &std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    >,
) -> Option<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{Object, Schema, Type};
    let Schema::AllOf(parts) = schema else {
        return None;
    };
    let mut merged = Object::with_type(Type::Object);
    merged.description = parts.description.clone();
    for part in &parts.items {
        let part = match part {
            RefOr::T(s) => s,
            RefOr::Ref(r) => {
                match all.get(r.ref_location.trim_start_matches("#/components/schemas/"))? {
                    RefOr::T(s) => s,
                    RefOr::Ref(_) => return None,
                }
            }
        };
        let Schema::Object(o) = part else {
            return None;
        };
        merged.properties.extend(o.properties.clone());
        merged.required.extend(o.required.iter().cloned());
    }
    Some(Schema::Object(merged))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(areas::router())
        .merge(users::router())
        .merge(households::router())
        .merge(history::router())
        .merge(search::router())
        .merge(import::router())
        .merge(assignments::router())
        .merge(accompaniment::router())
        .merge(conflicts::router())
        .merge(support::router())
        .merge(sync::router())
        .merge(targets::router())
        .merge(stats::router())
        .merge(dashboard::router())
        .merge(rules::router())
        .merge(reviews::router())
        .merge(reports::router())
        .merge(audit::router())
}
