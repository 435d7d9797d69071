//! The HTTP surface: routes, extractors, the OpenAPI document.

pub mod extract;
pub mod openapi;
pub mod routes;
