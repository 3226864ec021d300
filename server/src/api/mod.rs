//! The REST API, one module per resource, each exporting `router()`. Routes are declared
//! through utoipa so the OpenAPI document is generated from the routes that are served.

mod areas;
mod assignments;
mod audit;
mod auth;
mod conflicts;
mod households;
mod rules;
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

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(areas::router())
        .merge(users::router())
        .merge(households::router())
        .merge(assignments::router())
        .merge(conflicts::router())
        .merge(support::router())
        .merge(sync::router())
        .merge(targets::router())
        .merge(stats::router())
        .merge(rules::router())
        .merge(audit::router())
}
