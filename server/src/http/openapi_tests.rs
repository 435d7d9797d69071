//! Static checks of the OpenAPI document against the source: the router and the endpoint
//! table agree (methods, paths, extractors, body types, statuses), and every error code the
//! server's code can produce for an endpoint is listed for it.
//!
//! The error analysis reads `server/src` (tests left out): each function's codes are those it
//! names (`ErrorCode::X`, the `ApiError` helpers, a password hash's `unavailable`) plus those
//! of the functions it calls, resolved by name (`module::f` to that module, a bare `f` to its
//! own file first, a method to every function of that name). Resolving by name can only
//! over-approximate, so a code it finds that the document lacks is either a gap in the
//! document or a call it cannot tell apart — both worth a look.

use super::{Auth, ENDPOINTS, Endpoint, document};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use twostep_proto::ErrorCode;

/// The source with comments, string and char literals blanked out and test items removed.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let rest = &src[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map(|e| e + 2).unwrap_or(rest.len());
            i += end;
        } else if let Some(hashes) = raw_string_start(rest) {
            let close = format!("\"{}", "#".repeat(hashes));
            let open = 2 + hashes;
            let end =
                rest[open..].find(&close).map(|e| open + e + close.len()).unwrap_or(rest.len());
            out.push_str("\"\"");
            i += end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if b[i] == b'\'' && is_char_literal(&b[i..]) {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'\'' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    strip_test_items(&out)
}

fn raw_string_start(s: &str) -> Option<usize> {
    let s = s.strip_prefix('b').unwrap_or(s);
    let s = s.strip_prefix('r')?;
    let hashes = s.len() - s.trim_start_matches('#').len();
    s[hashes..].starts_with('"').then_some(hashes)
}

fn is_char_literal(b: &[u8]) -> bool {
    b.len() >= 3 && (b[1] == b'\\' || (b[2] == b'\'' && b[1] != b'\''))
        || (b.len() >= 4 && b[1] >= 0x80)
}

/// Removes every item marked `#[cfg(test)]`.
fn strip_test_items(s: &str) -> String {
    let mut s = s.to_owned();
    while let Some(at) = s.find("#[cfg(test)]") {
        let after = at + "#[cfg(test)]".len();
        let end = match (s[after..].find('{'), s[after..].find(';')) {
            (Some(b), Some(semi)) if semi < b => after + semi + 1,
            (Some(b), _) => matching_brace(&s, after + b).map(|e| e + 1).unwrap_or(s.len()),
            (None, Some(semi)) => after + semi + 1,
            (None, None) => s.len(),
        };
        s.replace_range(at..end, "");
    }
    s
}

fn matching_brace(s: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A function of the server's source: where it lives and its body.
#[derive(Debug)]
struct Func {
    module: String,
    /// Takes `self`: only method calls reach it.
    method: bool,
    body: String,
}

/// Every function with a body, by name.
fn functions(files: &[(String, String)]) -> HashMap<String, Vec<Func>> {
    let mut out: HashMap<String, Vec<Func>> = HashMap::new();
    for (module, src) in files {
        let mut from = 0;
        while let Some(pos) = src[from..].find("fn ") {
            let at = from + pos;
            from = at + 3;
            if at > 0 && src[..at].chars().last().is_some_and(is_ident) {
                continue;
            }
            let name: String = src[at + 3..].chars().take_while(|c| is_ident(*c)).collect();
            if name.is_empty() {
                continue;
            }
            let (Some(brace), semi) = (src[at..].find('{'), src[at..].find(';')) else { continue };
            if semi.is_some_and(|s| s < brace) {
                continue;
            }
            let Some(end) = matching_brace(src, at + brace) else { continue };
            let body = src[at + brace..=end].to_owned();
            let params = src[at..at + brace].split_once('(').map(|p| p.1).unwrap_or_default();
            let first = params.trim_start().trim_start_matches('&').trim_start();
            let first = first.strip_prefix("mut ").unwrap_or(first).trim_start();
            let method = first.starts_with("self")
                && !first["self".len()..].starts_with(|c: char| is_ident(c));
            out.entry(name).or_default().push(Func { module: module.clone(), method, body });
        }
    }
    out
}

/// Codes a body names itself.
fn direct_codes(body: &str) -> HashSet<ErrorCode> {
    let mut out = HashSet::new();
    for c in ErrorCode::ALL {
        let variant = format!("{c:?}");
        let named = [format!("ErrorCode::{variant}"), format!("E::{variant}")];
        if named.iter().any(|n| {
            body.match_indices(n.as_str())
                .any(|(i, _)| !body[i + n.len()..].starts_with(|ch: char| is_ident(ch)))
        }) {
            out.insert(*c);
        }
    }
    for (helper, code) in [
        ("ApiError::field(", ErrorCode::InvalidField),
        ("ApiError::request(", ErrorCode::InvalidRequest),
        ("ApiError::rate_limited(", ErrorCode::RateLimited),
        ("ApiError::credentials", ErrorCode::InvalidCredentials),
        ("ApiError::wrong_code(", ErrorCode::InvalidCode),
        ("ApiError::not_found(", ErrorCode::NotFound),
        ("ApiError::internal", ErrorCode::Internal),
        // A full password-hash queue is `503 unavailable` (`From<HashError>`).
        ("hasher.hash(", ErrorCode::Unavailable),
        ("hasher.verify(", ErrorCode::Unavailable),
    ] {
        if body.contains(helper) {
            out.insert(code);
        }
    }
    out
}

/// Calls in a body: `(module, name)` for `module::name(`, `("", name)` for `name(` and
/// `(".", name)` for `.name(`.
fn calls(body: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let chars: Vec<char> = body.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c != '(' {
            continue;
        }
        let mut j = i;
        // `name::<T>(`
        if j > 0 && chars[j - 1] == '>' {
            let mut depth = 0;
            while j > 0 {
                j -= 1;
                match chars[j] {
                    '>' => depth += 1,
                    '<' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            if j >= 2 && chars[j - 1] == ':' && chars[j - 2] == ':' {
                j -= 2;
            }
        }
        let end = j;
        while j > 0 && is_ident(chars[j - 1]) {
            j -= 1;
        }
        let name: String = chars[j..end].iter().collect();
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue;
        }
        let kind = if j >= 1 && chars[j - 1] == '.' {
            ".".to_owned()
        } else if j >= 2 && chars[j - 1] == ':' && chars[j - 2] == ':' {
            let m_end = j - 2;
            let mut k = m_end;
            while k > 0 && is_ident(chars[k - 1]) {
                k -= 1;
            }
            chars[k..m_end].iter().collect()
        } else {
            String::new()
        };
        out.insert((kind, name));
    }
    out
}

/// The codes a function can produce, through everything it calls.
struct Analysis {
    funcs: HashMap<String, Vec<Func>>,
    memo: HashMap<(String, String), HashSet<ErrorCode>>,
    /// For a function and a code it does not name itself: the callee it comes from.
    via: HashMap<(String, String, ErrorCode), (String, String)>,
}

impl Analysis {
    fn resolve(&self, from_module: &str, kind: &str, name: &str) -> Vec<(String, String)> {
        let Some(cands) = self.funcs.get(name) else { return vec![] };
        let pick: Vec<&Func> = match kind {
            "." => cands.iter().filter(|f| f.method).collect(),
            "" => {
                let free = cands.iter().filter(|f| !f.method);
                let same: Vec<&Func> = free.clone().filter(|f| f.module == from_module).collect();
                if same.is_empty() { free.collect() } else { same }
            }
            "Self" | "self" => cands.iter().filter(|f| f.module == from_module).collect(),
            "super" | "crate" => cands.iter().collect(),
            m => cands
                .iter()
                .filter(|f| f.module == m || f.module.ends_with(&format!("/{m}")))
                .collect(),
        };
        pick.into_iter().map(|f| (f.module.clone(), name.to_owned())).collect()
    }

    /// How `module::name` comes to answer `code`: the chain of calls.
    fn chain(&self, module: &str, name: &str, code: ErrorCode) -> String {
        let mut out = format!("{module}::{name}");
        let mut at = (module.to_owned(), name.to_owned());
        for _ in 0..20 {
            match self.via.get(&(at.0.clone(), at.1.clone(), code)) {
                Some(next) => {
                    out.push_str(&format!(" → {}::{}", next.0, next.1));
                    at = next.clone();
                }
                None => break,
            }
        }
        out
    }

    fn codes(&mut self, module: &str, name: &str) -> HashSet<ErrorCode> {
        let key = (module.to_owned(), name.to_owned());
        if let Some(c) = self.memo.get(&key) {
            return c.clone();
        }
        self.memo.insert(key.clone(), HashSet::new());
        let bodies: Vec<String> = self.funcs[name]
            .iter()
            .filter(|f| f.module == module)
            .map(|f| f.body.clone())
            .collect();
        let mut out = HashSet::new();
        for body in bodies {
            out.extend(direct_codes(&body));
            for (kind, callee) in calls(&body) {
                for (m, n) in self.resolve(module, &kind, &callee) {
                    for c in self.codes(&m, &n) {
                        if out.insert(c) {
                            self.via.insert(
                                (module.to_owned(), name.to_owned(), c),
                                (m.clone(), n.clone()),
                            );
                        }
                    }
                }
            }
        }
        self.memo.insert(key, out.clone());
        out
    }
}

fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files
        .into_iter()
        // The web pages answer HTML, not the API. The document's own code names every code
        // but answers none. The extractors' codes come
        // with each endpoint's auth and body (`error_codes`); the error type's conversions
        // are the helpers above; the CLI answers no requests.
        .filter(|p| {
            !p.starts_with(root.join("web"))
                && !p.ends_with("http/extract.rs")
                && !p.ends_with("http/openapi.rs")
                && !p.ends_with("http/endpoints.rs")
                && !p.ends_with("error.rs")
                && !p.ends_with("main.rs")
                && !p.to_string_lossy().ends_with("_tests.rs")
        })
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap_or(&p).with_extension("");
            let module = rel.to_string_lossy().trim_end_matches("/mod").to_owned();
            (module, code_only(&std::fs::read_to_string(&p).expect("read source")))
        })
        .collect()
}

/// The routes of the router: method, path, handler name (`get(a).post(b)` is two).
fn routes(routes_rs: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for part in routes_rs.split(".route(").skip(1) {
        let path = part.split('"').nth(1).unwrap_or_default().to_owned();
        let methods = part.split_once(',').map(|p| p.1).unwrap_or_default();
        let methods = methods.split('\n').next().unwrap_or_default();
        for call in methods.split(").") {
            let call = call.trim().trim_end_matches(')').trim_end_matches(')');
            if let Some((method, handler)) = call.split_once('(') {
                out.push((method.trim().to_owned(), path.clone(), handler.trim().to_owned()));
            }
        }
    }
    out
}

fn handler_sig_and_body(src: &str, name: &str) -> (String, String) {
    let at = src.find(&format!("async fn {name}(")).unwrap_or_else(|| panic!("handler {name}"));
    let brace = at + src[at..].find('{').expect("handler body");
    let end = matching_brace(src, brace).expect("handler end");
    (src[at..brace].to_owned(), src[brace..=end].to_owned())
}

/// The type argument after `open` (`Json<`), nested ones included.
fn generic_arg<'a>(s: &'a str, open: &str) -> Option<&'a str> {
    let at = s.find(open)? + open.len();
    let mut depth = 1;
    for (i, c) in s[at..].char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[at..at + i]);
                }
            }
            _ => {}
        }
    }
    None
}

fn between<'a>(s: &'a str, open: &str, close: char) -> Option<&'a str> {
    let at = s.find(open)? + open.len();
    let end = s[at..].find(close)?;
    Some(&s[at..at + end])
}

/// What a handler's signature and body say about its endpoint.
#[derive(Debug)]
struct Described {
    auth: Auth,
    request: Option<String>,
    query: Option<String>,
    response: String,
    status: u16,
}

fn described(sig: &str, body: &str) -> Described {
    let auth = if sig.contains("FullSession") {
        Auth::Session
    } else if sig.contains("AnySession") {
        Auth::AnySession
    } else if sig.contains("Operator(") || sig.contains("OperatorToken(") {
        Auth::Operator
    } else {
        Auth::None
    };
    let ret = sig.split("->").nth(1).unwrap_or_default();
    let response = match generic_arg(ret, "Json<") {
        Some("serde_json::Value") => "OpenApi",
        Some(t) => t,
        None if ret.contains("IntoResponse") => "Metrics",
        None => "Empty",
    };
    let status = if body.contains("StatusCode::CREATED") {
        201
    } else if body.contains("StatusCode::NO_CONTENT") {
        204
    } else {
        200
    };
    Described {
        auth,
        request: between(sig, "JsonBody<", '>').map(str::to_owned),
        query: between(sig, "Query<", '>').map(str::to_owned),
        response: response.to_owned(),
        status,
    }
}

/// `routes.rs` as written (for the paths) and as code (for the handlers).
fn routes_source() -> (String, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/routes.rs");
    let raw = std::fs::read_to_string(p).expect("routes.rs");
    let code = code_only(&raw);
    (raw, code)
}

fn key(method: &str, path: &str) -> String {
    format!("{} {path}", method.to_uppercase())
}

#[test]
fn the_router_and_the_endpoint_table_agree() {
    let (raw, src) = routes_source();
    let routes = routes(&raw);
    assert!(routes.len() > 40, "routes.rs parses: {routes:?}");
    let table: BTreeMap<String, &Endpoint> =
        ENDPOINTS.iter().map(|e| (key(e.method, e.path), e)).collect();
    let routed: BTreeSet<String> = routes.iter().map(|(m, p, _)| key(m, p)).collect();
    let documented: BTreeSet<String> = table.keys().cloned().collect();
    assert_eq!(routed, documented, "every route is documented and every documented one routed");
    for (method, path, handler) in &routes {
        let (sig, body) = handler_sig_and_body(&src, handler);
        let got = described(&sig, &body);
        let ep = table[&key(method, path)];
        let what = key(method, path);
        assert_eq!(got.auth, ep.auth, "{what}: auth");
        assert_eq!(got.request.as_deref(), ep.request, "{what}: request body type");
        assert_eq!(got.query.as_deref(), ep.query, "{what}: query type");
        assert_eq!(got.response, ep.response, "{what}: response type");
        assert_eq!(got.status, ep.status, "{what}: success status");
    }
}

/// Codes the analysis finds on a path the code never takes (it does not follow conditions),
/// each with the reason. An entry the analysis no longer finds fails the test: remove it.
const UNREACHABLE: &[(&str, ErrorCode, &str)] = &[(
    "POST /v1/signin",
    ErrorCode::ResendTooSoon,
    "sign-in codes are sent with `Cooldown::Skip`; only explicit sends wait out the cooldown",
)];

#[test]
fn every_code_the_source_can_answer_is_documented_for_its_endpoint() {
    let files = sources();
    let funcs = functions(&files);
    let mut a = Analysis { funcs, memo: HashMap::new(), via: HashMap::new() };
    let (raw, _) = routes_source();
    let mut gaps = Vec::new();
    let mut excused = HashSet::new();
    let mut found_anywhere = HashSet::new();
    for (method, path, handler) in routes(&raw) {
        let ep = ENDPOINTS
            .iter()
            .find(|e| e.method == method && e.path == path)
            .expect("documented (the other test checks)");
        let codes = a.codes("http/routes", &handler);
        found_anywhere.extend(codes.iter().copied());
        let listed = ep.error_codes();
        let k = key(&method, &path);
        for c in codes.iter().filter(|c| !listed.contains(c)) {
            if let Some(i) = UNREACHABLE.iter().position(|(op, code, _)| *op == k && code == c) {
                excused.insert(i);
                continue;
            }
            let chain = a.chain("http/routes", &handler, *c);
            gaps.push(format!("{k} can answer {c}: {chain}"));
        }
    }
    assert!(
        gaps.is_empty(),
        "codes the source can answer but the document omits:\n{}",
        gaps.join("\n")
    );
    for (i, (op, code, _)) in UNREACHABLE.iter().enumerate() {
        assert!(excused.contains(&i), "{op} {code} is no longer found: remove it from UNREACHABLE");
    }
    // The analysis sees the codes (guards against it silently finding nothing).
    for c in [ErrorCode::InvalidCredentials, ErrorCode::SendLimitReached, ErrorCode::SetupComplete]
    {
        assert!(found_anywhere.contains(&c), "the analysis found no {c}");
    }
}

#[test]
fn every_error_code_is_in_the_document_and_answered_somewhere() {
    let doc = document();
    let schema_codes = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    let described = &doc["info"]["x-error-codes"];
    for c in ErrorCode::ALL {
        assert!(
            schema_codes.as_array().is_some_and(|a| a.contains(&c.as_str().into())),
            "{c} is not in the ErrorCode schema"
        );
        assert!(
            described.as_array().is_some_and(|a| a.iter().any(|d| d["code"] == c.as_str())),
            "{c} is not described"
        );
        let somewhere = doc["paths"].as_object().into_iter().flatten().any(|(_, item)| {
            item.as_object().into_iter().flatten().any(|(_, op)| {
                op["responses"][c.http_status().to_string()]["x-error-codes"]
                    .as_array()
                    .is_some_and(|a| a.contains(&c.as_str().into()))
            })
        });
        assert!(somewhere, "no operation lists {c}");
    }
}

#[test]
fn the_document_references_only_schemas_it_has() {
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(|r| r.as_str()) {
                    out.push(r.to_owned());
                }
                o.values().for_each(|v| refs(v, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let doc = document();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 50);
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r}"));
        assert!(doc["components"]["schemas"][name].is_object(), "{r} is missing");
    }
    // No placeholder schemas are left: every operation's body types have properties or
    // alternatives.
    for ep in ENDPOINTS {
        for name in ep.request.iter().chain([&ep.response]) {
            if let Some(s) = doc["components"]["schemas"].get(*name) {
                assert!(
                    s.get("properties").is_some() || s.get("oneOf").is_some(),
                    "{name} is a placeholder"
                );
            }
        }
    }
}
