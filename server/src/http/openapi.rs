//! The OpenAPI 3.1 document at `/openapi.json`, built from one table of endpoints so
//! that a test can check it against the router.

use ErrorCode as E;
use serde_json::{Value, json};
use twostep_proto::ErrorCode;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    None,
    /// A user session (setup-only sessions included).
    AnySession,
    /// A full user session.
    Session,
    /// An operator session.
    Operator,
}

/// One endpoint.
#[derive(Debug)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub request: Option<&'static str>,
    pub response: &'static str,
    pub errors: &'static [ErrorCode],
}

pub use super::endpoints::ENDPOINTS;

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for ep in ENDPOINTS {
        let mut responses = serde_json::Map::new();
        let ok = match ep.response {
            "Empty" => json!({"description": "done"}),
            "Metrics" => {
                json!({"description": "Prometheus text", "content": {"text/plain": {"schema": {"type": "string"}}}})
            }
            r => {
                json!({"description": "ok", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{r}")}}}})
            }
        };
        responses.insert("2XX".into(), ok);
        let mut errors: Vec<ErrorCode> = ep.errors.to_vec();
        errors.extend([E::NotFound, E::MethodNotAllowed, E::Internal]);
        let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
        for e in errors {
            by_status.entry(e.http_status()).or_default().push(e.as_str());
        }
        for (status, codes) in by_status {
            responses.insert(
                status.to_string(),
                json!({"description": format!("error codes: {}", codes.join(", ")), "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}, "x-error-codes": codes}),
            );
        }
        let mut op = json!({ "summary": ep.summary, "responses": responses });
        if let Some(r) = ep.request {
            op["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{r}")}}}});
        }
        match ep.auth {
            Auth::None => {}
            Auth::AnySession | Auth::Session => op["security"] = json!([{"session": []}]),
            Auth::Operator => op["security"] = json!([{"operator": []}]),
        }
        let params: Vec<Value> = ep
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string", "maxLength": 256}}))
            .collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(ep.path.to_string()).or_insert_with(|| json!({}));
        entry[ep.method] = op;
    }
    let codes: Vec<Value> = ErrorCode::ALL.iter().map(|c| json!(c.as_str())).collect();
    let code_docs: Vec<Value> =
        ErrorCode::ALL.iter().map(|c| json!({"code": c.as_str(), "status": c.http_status(), "description": c.description()})).collect();
    let mut schemas = serde_json::Map::new();
    schemas.insert(
        "ErrorBody".into(),
        json!({"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string", "enum": codes}, "message": {"type": "string"},
            "retry_after_secs": {"type": "integer", "minimum": 0}, "attempts_left": {"type": "integer", "minimum": 0}}}}}),
    );
    for ep in ENDPOINTS {
        for name in ep.request.iter().chain(std::iter::once(&ep.response)) {
            if !matches!(*name, "Empty" | "Metrics") {
                schemas
                    .entry(name.to_string())
                    .or_insert_with(|| json!({"type": "object", "description": format!("See `twostep_proto::{name}`.")}));
            }
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "twostep server", "version": env!("CARGO_PKG_VERSION"), "x-error-codes": code_docs},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"session": {"type": "http", "scheme": "bearer"}, "operator": {"type": "http", "scheme": "bearer"}},
        },
    })
}
