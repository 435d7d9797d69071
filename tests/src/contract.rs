//! The contract check: every exchange of the end-to-end run is validated against the
//! OpenAPI document the server serves at `/openapi.json`.
//!
//! For the operation a request matches (method and path template): the path and query
//! parameters and the JSON body against their schemas; the status must be one the operation
//! documents; the body against that status's schema (success type, or `ErrorBody` with the
//! `code` pinned to the operation's codes for that status). A request its schema rejects must
//! be answered with a documented 4xx (tests send bad input on purpose), and a request its
//! schema accepts must not be answered `400 invalid_request` (the schema would be looser than
//! the server's parser). Requests outside the document must get `404 not_found` or
//! `405 method_not_allowed`.
//!
//! Values are never echoed into failure messages (bodies carry passwords and codes): the
//! validator's messages are masked.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

/// A compiled JSON Schema.
type Schema = jsonschema::Validator;

enum Body {
    Empty,
    Text,
    Json(Schema),
}

struct Param {
    name: String,
    integer: bool,
    schema: Schema,
}

struct Op {
    name: String,
    method: String,
    segments: Vec<Option<String>>,
    path_params: Vec<(usize, Param)>,
    query: Vec<Param>,
    request: Option<Schema>,
    responses: HashMap<u16, Body>,
}

/// The document's operations with their compiled schemas.
pub struct Contract {
    ops: Vec<Op>,
    error_body: Schema,
}

impl std::fmt::Debug for Contract {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Contract({} operations)", self.ops.len())
    }
}

/// Compiles `schema` with the document's components beside it, so that its
/// `#/components/schemas/...` references resolve.
fn compile(schema: &Value, components: &Value) -> Schema {
    let mut s = match schema {
        Value::Object(o) => o.clone(),
        other => panic!("a schema in the document is not an object: {other}"),
    };
    s.insert("components".into(), components.clone());
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&Value::Object(s))
        .unwrap_or_else(|e| panic!("the document has an invalid schema: {e}"))
}

fn param(p: &Value, components: &Value) -> Param {
    let schema = &p["schema"];
    Param {
        name: p["name"].as_str().unwrap_or_default().to_owned(),
        integer: schema["type"] == "integer",
        schema: compile(schema, components),
    }
}

impl Contract {
    /// Compiles a document (`/openapi.json`).
    pub fn new(doc: &Value) -> Self {
        let components = &doc["components"];
        let mut ops = Vec::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("path item") {
                let segments: Vec<Option<String>> =
                    path.split('/').map(|s| (!s.starts_with('{')).then(|| s.to_owned())).collect();
                let params = op["parameters"].as_array().cloned().unwrap_or_default();
                let path_params = params
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| {
                        let at = format!("{{{}}}", p["name"].as_str().unwrap_or_default());
                        let i = path.split('/').position(|s| s == at).expect("parameter in path");
                        (i, param(p, components))
                    })
                    .collect();
                let query = params
                    .iter()
                    .filter(|p| p["in"] == "query")
                    .map(|p| param(p, components))
                    .collect();
                let request = op["requestBody"]["content"]["application/json"]
                    .get("schema")
                    .map(|s| compile(s, components));
                let mut responses = HashMap::new();
                for (status, r) in op["responses"].as_object().expect("responses") {
                    let status: u16 = status.parse().expect("numeric status");
                    let body = match r["content"].as_object() {
                        None => Body::Empty,
                        Some(c) if c.contains_key("text/plain") => Body::Text,
                        Some(c) => {
                            Body::Json(compile(&c["application/json"]["schema"], components))
                        }
                    };
                    responses.insert(status, body);
                }
                ops.push(Op {
                    name: format!("{} {path}", method.to_uppercase()),
                    method: method.to_uppercase(),
                    segments,
                    path_params,
                    query,
                    request,
                    responses,
                });
            }
        }
        let error_body = compile(&json!({"$ref": "#/components/schemas/ErrorBody"}), components);
        Self { ops, error_body }
    }

    /// The document the server serves, compiled once per process.
    pub fn served() -> &'static Contract {
        static C: OnceLock<Contract> = OnceLock::new();
        C.get_or_init(|| Contract::new(&twostep_server::http::openapi::document()))
    }

    /// The operations of the document, as `METHOD /path/{template}`.
    pub fn operations(&self) -> impl Iterator<Item = &str> {
        self.ops.iter().map(|o| o.name.as_str())
    }

    fn matches<'a>(&'a self, path: &str) -> impl Iterator<Item = &'a Op> + 'a {
        let segs: Vec<String> = path.split('/').map(percent_decode).collect();
        self.ops.iter().filter(move |op| {
            op.segments.len() == segs.len()
                && op.segments.iter().zip(&segs).all(|(t, s)| match t {
                    Some(lit) => lit == s,
                    None => !s.is_empty(),
                })
        })
    }

    /// The operation a request goes to: literal segments win over parameters, as in the
    /// router.
    fn find(&self, method: &str, path: &str) -> Option<&Op> {
        self.matches(path)
            .filter(|op| op.method == method)
            .max_by_key(|op| op.segments.iter().filter(|s| s.is_some()).count())
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(hex) = std::str::from_utf8(&b[i + 1..i + 3])
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// What is wrong with `v`, without its values. Where alternatives (`oneOf`, `anyOf`) all
/// fail, the failing keywords inside them are listed too.
fn problems(schema: &Schema, v: &Value) -> Vec<String> {
    let mut out: Vec<String> = schema
        .iter_errors(v)
        .map(|e| format!("at `{}`: {}", e.instance_path(), e.masked()))
        .take(5)
        .collect();
    if out.iter().any(|e| e.contains("'oneOf'") || e.contains("'anyOf'")) {
        let eval = schema.evaluate(v);
        let inner: Vec<String> = eval
            .iter_errors()
            .filter(|e| !e.schema_location.ends_with("Of"))
            .map(|e| format!("`{}` fails `{}`", e.instance_location, e.schema_location))
            .take(8)
            .collect();
        out.push(format!("inside the alternatives: {}", inner.join(", ")));
    }
    out
}

/// One request and its answer, as seen on the wire.
#[derive(Debug, Clone)]
pub struct Exchange<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// Path and query, as sent.
    pub path: &'a str,
    /// The request's content type, if any.
    pub request_type: Option<&'a str>,
    /// The request body (empty when none).
    pub request: &'a [u8],
    /// The answer's status.
    pub status: u16,
    /// The answer's content type, if any.
    pub response_type: Option<&'a str>,
    /// The answer's body.
    pub response: &'a [u8],
}

/// What a run saw: counts and which (operation, status, code) answers occurred.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Exchanges checked.
    pub exchanges: u64,
    /// Of those, made by a client under test through the checking proxy.
    pub proxied: u64,
    /// Requests checked against their operation (parameters and body).
    pub requests: u64,
    /// JSON request bodies validated.
    pub request_bodies: u64,
    /// Requests the schemas reject (sent on purpose), all answered with a documented 4xx.
    pub rejected: u64,
    /// Responses validated against their status's schema.
    pub responses: u64,
    /// Requests outside the document, answered 404/405.
    pub unrouted: u64,
    /// (operation, status, error code) answers seen.
    pub seen: BTreeSet<(String, u16, String)>,
}

/// Checks exchanges and keeps what it saw; shared by the harness, its helpers and the
/// checking proxy. Violations are kept so that the harness can fail its test with them.
#[derive(Clone, Default)]
pub struct Checker {
    stats: Arc<Mutex<Stats>>,
    violations: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").finish_non_exhaustive()
    }
}

impl Checker {
    /// A checker with nothing seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// What it saw so far.
    pub fn stats(&self) -> Stats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Violations not yet reported.
    pub fn take_violations(&self) -> Vec<String> {
        self.violations.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }

    /// Checks an exchange against the served document; a violation is returned and also
    /// kept (for exchanges whose caller cannot fail the test, such as the proxy's).
    pub fn check(&self, x: &Exchange<'_>, proxied: bool) -> Result<(), String> {
        let mut seen = None;
        let result = check(Contract::served(), x, &mut seen);
        if let Ok(mut s) = self.stats.lock() {
            s.exchanges += 1;
            s.proxied += u64::from(proxied);
            if let Some(seen) = seen {
                s.requests += 1;
                s.request_bodies += u64::from(seen.body_validated);
                s.rejected += u64::from(!seen.request_valid);
                s.responses += 1;
                s.seen.insert((seen.op, x.status, seen.code.unwrap_or_default()));
            } else if result.is_ok() {
                s.unrouted += 1;
            }
        }
        result.map_err(|e| {
            let msg = format!("contract violation: {} {} → {}: {e}", x.method, x.path, x.status);
            if let Ok(mut v) = self.violations.lock() {
                v.push(msg.clone());
            }
            msg
        })
    }

    /// Writes what it saw as one JSON line to the file named by `TWOSTEP_CONTRACT_REPORT`
    /// (when set), for `scripts/contract-report.sh`.
    pub fn report(&self) {
        let Some(path) = std::env::var_os("TWOSTEP_CONTRACT_REPORT") else { return };
        let s = self.stats();
        let seen: Vec<Value> = s.seen.iter().map(|(o, st, c)| json!([o, st, c])).collect();
        let line = json!({
            "exchanges": s.exchanges, "proxied": s.proxied, "requests": s.requests,
            "request_bodies": s.request_bodies, "rejected": s.rejected,
            "responses": s.responses, "unrouted": s.unrouted, "seen": seen,
        });
        static WRITE: Mutex<()> = Mutex::new(());
        let _guard = WRITE.lock();
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{line}");
        }
    }
}

struct Seen {
    op: String,
    code: Option<String>,
    request_valid: bool,
    body_validated: bool,
}

fn json_type(t: Option<&str>) -> bool {
    t.and_then(|t| t.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// The request's problems against its operation (empty: valid).
fn request_problems(op: &Op, path: &str, query: Option<&str>, x: &Exchange<'_>) -> Vec<String> {
    let mut out = Vec::new();
    let segs: Vec<&str> = path.split('/').collect();
    for (i, p) in &op.path_params {
        let v = Value::String(percent_decode(segs[*i]));
        out.extend(problems(&p.schema, &v).into_iter().map(|e| format!("path `{}` {e}", p.name)));
    }
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k), percent_decode(&v.replace('+', " ")));
        let Some(p) = op.query.iter().find(|p| p.name == k) else {
            out.push(format!("query parameter `{k}` is not documented"));
            continue;
        };
        let value = if p.integer {
            v.parse::<u64>().map(Value::from).unwrap_or(Value::String(v))
        } else {
            Value::String(v)
        };
        out.extend(problems(&p.schema, &value).into_iter().map(|e| format!("query `{k}` {e}")));
    }
    if let Some(schema) = &op.request {
        if !json_type(x.request_type) {
            out.push("the body is not application/json".into());
        } else {
            match serde_json::from_slice::<Value>(x.request) {
                Ok(v) => out.extend(problems(schema, &v).into_iter().map(|e| format!("body {e}"))),
                Err(_) => out.push("the body is not JSON".into()),
            }
        }
    }
    out
}

fn check(c: &Contract, x: &Exchange<'_>, seen: &mut Option<Seen>) -> Result<(), String> {
    let (path, query) = match x.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (x.path, None),
    };
    let method = x.method.to_ascii_uppercase();
    let body: Option<Value> = serde_json::from_slice(x.response).ok();
    let code = body
        .as_ref()
        .and_then(|b| b["error"]["code"].as_str())
        .filter(|_| x.status >= 400)
        .map(str::to_owned);
    let Some(op) = c.find(&method, path) else {
        let expected = if c.matches(path).next().is_some() {
            (405, "method_not_allowed")
        } else {
            (404, "not_found")
        };
        let b = body.ok_or("not in the document, and the answer is not JSON")?;
        let p = problems(&c.error_body, &b);
        if x.status != expected.0 || code.as_deref() != Some(expected.1) || !p.is_empty() {
            return Err(format!(
                "not in the document: expected {} {}, got {:?} {p:?}",
                expected.0, expected.1, code
            ));
        }
        return Ok(());
    };
    let request = request_problems(op, path, query, x);
    *seen = Some(Seen {
        op: op.name.clone(),
        code: code.clone(),
        request_valid: request.is_empty(),
        body_validated: op.request.is_some() && json_type(x.request_type),
    });
    let documented: BTreeMap<u16, &Body> = op.responses.iter().map(|(s, b)| (*s, b)).collect();
    let Some(expected) = op.responses.get(&x.status) else {
        let statuses: Vec<&u16> = documented.keys().collect();
        return Err(format!(
            "{}: status {} is not documented (documented: {statuses:?}; code {:?})",
            op.name, x.status, code
        ));
    };
    match expected {
        Body::Empty if !x.response.is_empty() => {
            return Err(format!("{}: {} must have no body", op.name, x.status));
        }
        Body::Empty => {}
        Body::Text => {
            if !x.response_type.is_some_and(|t| t.starts_with("text/plain")) {
                return Err(format!("{}: {} must be text/plain", op.name, x.status));
            }
        }
        Body::Json(schema) => {
            if !json_type(x.response_type) {
                return Err(format!("{}: {} must be application/json", op.name, x.status));
            }
            let b = body.ok_or_else(|| format!("{}: {} body is not JSON", op.name, x.status))?;
            let p = problems(schema, &b);
            if !p.is_empty() {
                let what = match &code {
                    Some(c) => format!("the error `{c}` is not documented for it, or "),
                    None => String::new(),
                };
                return Err(format!(
                    "{}: {} answer does not match the document ({what}its body does not match \
                     the schema): {}",
                    op.name,
                    x.status,
                    p.join("; ")
                ));
            }
        }
    }
    if !request.is_empty() && x.status < 400 {
        return Err(format!(
            "{}: the server accepted a request that the document rejects: {}",
            op.name,
            request.join("; ")
        ));
    }
    if request.is_empty() && x.status == 400 && code.as_deref() == Some("invalid_request") {
        return Err(format!(
            "{}: the server answered invalid_request to a request the document accepts",
            op.name
        ));
    }
    Ok(())
}

/// Error codes documented per operation: `METHOD /path` → codes.
pub fn documented_codes(doc: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let codes: BTreeSet<String> = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .flat_map(|(_, r)| r["x-error-codes"].as_array().cloned().unwrap_or_default())
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect();
            out.insert(format!("{} {path}", method.to_uppercase()), codes);
        }
    }
    out
}

/// An answer: status, headers and the body's bytes.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Checker {
    /// Sends a request and checks the exchange; a violation fails the calling test here.
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        let (client, req) = rb.build_split();
        let req = req.expect("the request builds");
        let method = req.method().as_str().to_owned();
        let url = req.url();
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let header = |h: &reqwest::header::HeaderMap| {
            h.get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let request_type = header(req.headers());
        let request = req.body().and_then(|b| b.as_bytes()).map(<[u8]>::to_vec).unwrap_or_default();
        let resp = client.execute(req).await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        let response_type = header(&headers);
        let x = Exchange {
            method: &method,
            path: &path,
            request_type: request_type.as_deref(),
            request: &request,
            status,
            response_type: response_type.as_deref(),
            response: &body,
        };
        if let Err(e) = self.check(&x, false) {
            panic!("{e}");
        }
        Reply { status, headers, body }
    }
}
