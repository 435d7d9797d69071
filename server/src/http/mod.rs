//! The HTTP surface: routes, extractors, the OpenAPI document.

pub mod client_addr;
pub mod endpoints;
pub mod extract;
pub mod openapi;
pub mod routes;
