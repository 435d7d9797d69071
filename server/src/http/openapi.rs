//! The OpenAPI 3.1 document at `/openapi.json`, built from one table of endpoints so
//! that a test can check it against the router.
//!
//! The component schemas (JSON Schema 2020-12) are generated from the `twostep-proto` types
//! themselves (`schemars`, honouring their serde attributes), so the document cannot drift
//! from what the server parses and answers. Each operation's error responses pin the error
//! `code` to the codes that operation can answer, which a validator then checks.

use ErrorCode as E;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};
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
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    /// The request body's `twostep_proto` type.
    pub request: Option<&'static str>,
    /// The `twostep_proto` type whose fields are the query parameters.
    pub query: Option<&'static str>,
    /// The success body's `twostep_proto` type (`Option<T>`: `T` or `null`); `Empty` (no
    /// body), `Metrics` (text) and `OpenApi` (this document) are special.
    pub response: &'static str,
    /// The success status.
    pub status: u16,
    /// The error codes the endpoint's own logic answers; [`Endpoint::error_codes`] adds those
    /// that come with its extractors and every route.
    pub errors: &'static [ErrorCode],
}

pub use super::endpoints::ENDPOINTS;

/// Codes any route can answer: an unknown id in the path, a wrong method, a failure.
pub const EVERY_ROUTE: &[ErrorCode] = &[E::NotFound, E::MethodNotAllowed, E::Internal];
/// Codes of the JSON body extractor.
pub const BODY: &[ErrorCode] =
    &[E::InvalidRequest, E::PayloadTooLarge, E::UnsupportedMediaType, E::RequestTimeout];
/// Codes of a user session (a registration's child session answers `device_revoked`).
pub const SESSION: &[ErrorCode] = &[E::Unauthorized, E::DeviceRevoked];
/// Codes of an operator session.
pub const OPERATOR: &[ErrorCode] = &[E::Unauthorized];

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Endpoint {
    /// An endpoint without query parameters, answering 204 when it has no body, else 200.
    pub const fn new(
        method: &'static str,
        path: &'static str,
        summary: &'static str,
        auth: Auth,
        request: Option<&'static str>,
        response: &'static str,
        errors: &'static [ErrorCode],
    ) -> Self {
        let status = if str_eq(response, "Empty") { 204 } else { 200 };
        Self { method, path, summary, auth, request, query: None, response, status, errors }
    }

    /// The names of the path parameters.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }

    /// Every error code the endpoint can answer, in the order of [`ErrorCode::ALL`]: its own,
    /// its extractors' (body, path, query, session) and [`EVERY_ROUTE`].
    pub fn error_codes(&self) -> Vec<ErrorCode> {
        let mut all: Vec<ErrorCode> = self.errors.to_vec();
        all.extend_from_slice(EVERY_ROUTE);
        if self.request.is_some() {
            all.extend_from_slice(BODY);
        }
        if self.query.is_some() || self.path_params().next().is_some() {
            all.push(E::InvalidRequest);
        }
        match self.auth {
            Auth::None => {}
            Auth::AnySession => all.extend_from_slice(SESSION),
            Auth::Session => {
                all.extend_from_slice(SESSION);
                all.push(E::Forbidden);
            }
            Auth::Operator => all.extend_from_slice(OPERATOR),
        }
        ErrorCode::ALL.iter().copied().filter(|c| all.contains(c)).collect()
    }
}

/// The schema generator: JSON Schema 2020-12 with definitions under `components/schemas`;
/// `inline` puts everything in place (for query types, whose fields become parameters).
fn generator(inline: bool) -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .with(|s| {
            s.definitions_path = "/components/schemas".into();
            s.meta_schema = None;
            s.inline_subschemas = inline;
        })
        .into_generator()
}

/// A `$ref` to the schema of the `twostep_proto` type called `name` (adding it and what it
/// refers to to the generator's definitions).
fn schema_ref(g: &mut SchemaGenerator, name: &str) -> Value {
    use twostep_proto as p;
    if let Some(inner) = name.strip_prefix("Option<").and_then(|n| n.strip_suffix('>')) {
        return json!({"anyOf": [schema_ref(g, inner), {"type": "null"}]});
    }
    macro_rules! by_name {
        ($($t:ident),* $(,)?) => {
            match name {
                $(stringify!($t) => g.subschema_for::<p::$t>(),)*
                other => panic!("the endpoint table names `{other}`, which has no schema here"),
            }
        };
    }
    by_name!(
        Health,
        Ready,
        SignInRequest,
        SignInResponse,
        CodeSubmission,
        CodeChallenge,
        ChannelSwitch,
        DeviceChallengeRequest,
        DeviceChallenge,
        DeviceSessionRequest,
        SessionGrant,
        MeResponse,
        PasswordChange,
        DeviceList,
        TwoStepSettings,
        TotpEnrollment,
        EnrollmentResult,
        PhoneEnrollment,
        EmailEnrollment,
        PendingDelivery,
        PreferredChannel,
        RecoveryCodes,
        StepUpRequest,
        VerifyResult,
        Bootstrap,
        OperatorSignIn,
        OperatorSession,
        OperatorStatus,
        CreateOrg,
        OrgView,
        PolicyUpdate,
        CreateUser,
        AdminUserView,
        RemovedCount,
        AuditQuery,
        AuditPage,
        OrgList,
        PolicyPreview,
        UsersQuery,
        UserList,
        SessionList,
        ErrorBody,
        Channel,
    )
    .to_value()
}

fn json_content(schema: Value) -> Value {
    json!({"application/json": {"schema": schema}})
}

/// The success response.
fn ok_response(g: &mut SchemaGenerator, ep: &Endpoint) -> Value {
    match ep.response {
        "Empty" => json!({"description": "done (no body)"}),
        "Metrics" => json!({
            "description": "Prometheus text exposition",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }),
        "OpenApi" => json!({
            "description": "this document",
            "content": json_content(json!({
                "type": "object",
                "required": ["openapi", "info", "paths", "components"],
                "properties": {"openapi": {"const": "3.1.0"}},
            })),
        }),
        name => json!({"description": "ok", "content": json_content(schema_ref(g, name))}),
    }
}

/// One response per error status: the `ErrorBody` with `code` pinned to the codes of this
/// endpoint that answer with that status.
fn error_responses(g: &mut SchemaGenerator, ep: &Endpoint, responses: &mut Map<String, Value>) {
    let body = schema_ref(g, "ErrorBody");
    let mut by_status: std::collections::BTreeMap<u16, Vec<&str>> = Default::default();
    for e in ep.error_codes() {
        by_status.entry(e.http_status()).or_default().push(e.as_str());
    }
    for (status, codes) in by_status {
        let pinned = json!({"properties": {"error": {"properties": {"code": {"enum": codes}}}}});
        responses.insert(
            status.to_string(),
            json!({
                "description": format!("error codes: {}", codes.join(", ")),
                "content": json_content(json!({"allOf": [body, pinned]})),
                "x-error-codes": codes,
            }),
        );
    }
}

/// Path parameters: bounded strings (a channel is one of the channels).
fn path_params(g: &mut SchemaGenerator, ep: &Endpoint) -> Vec<Value> {
    ep.path_params()
        .map(|name| {
            let schema = match name {
                "channel" => schema_ref(g, "Channel"),
                _ => json!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": twostep_proto::MAX_PATH_SEGMENT_LEN,
                }),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect()
}

/// Query parameters: the properties of the query type (optional, never null).
fn query_params(ep: &Endpoint) -> Vec<Value> {
    let Some(name) = ep.query else { return vec![] };
    let mut g = generator(true);
    let schema = schema_ref(&mut g, name);
    let props = schema["properties"].as_object().cloned().unwrap_or_default();
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    props
        .into_iter()
        .map(|(prop, mut s)| {
            if let Some(types) = s["type"].as_array() {
                let types: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
                s["type"] = if types.len() == 1 { types[0].clone() } else { Value::Array(types) };
            }
            let description = s.get("description").cloned().unwrap_or(Value::Null);
            json!({
                "name": prop,
                "in": "query",
                "required": required.contains(&json!(prop)),
                "description": description,
                "schema": s,
            })
        })
        .collect()
}

/// The document.
pub fn document() -> Value {
    let mut g = generator(false);
    let mut paths = Map::new();
    for ep in ENDPOINTS {
        let mut responses = Map::new();
        responses.insert(ep.status.to_string(), ok_response(&mut g, ep));
        error_responses(&mut g, ep, &mut responses);
        let mut op = json!({"summary": ep.summary, "responses": responses});
        if let Some(r) = ep.request {
            op["requestBody"] =
                json!({"required": true, "content": json_content(schema_ref(&mut g, r))});
        }
        match ep.auth {
            Auth::None => {}
            Auth::AnySession | Auth::Session => op["security"] = json!([{"session": []}]),
            Auth::Operator => op["security"] = json!([{"operator": []}]),
        }
        let params: Vec<Value> =
            path_params(&mut g, ep).into_iter().chain(query_params(ep)).collect();
        if !params.is_empty() {
            op["parameters"] = Value::Array(params);
        }
        let entry = paths.entry(ep.path.to_string()).or_insert_with(|| json!({}));
        entry[ep.method] = op;
    }
    let code_docs: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|c| json!({"code": c.as_str(), "status": c.http_status(), "description": c.description()}))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {"title": "twostep server", "version": env!("CARGO_PKG_VERSION"), "x-error-codes": code_docs},
        "paths": paths,
        "components": {
            "schemas": g.take_definitions(true),
            "securitySchemes": {"session": {"type": "http", "scheme": "bearer"}, "operator": {"type": "http", "scheme": "bearer"}},
        },
    })
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
