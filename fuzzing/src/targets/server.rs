//! The server's JSON API and its stored password hash parser.
//!
//! [`server_routes`] sends arbitrary bodies to every endpoint that reads one (and arbitrary
//! query strings to those that read a query) through the real router (see
//! [`super::world`]) with valid credentials, so that the body is what decides the answer.
//! Each answer must be typed: a 2xx with JSON, or an error body whose code matches the
//! status; never a 500, never a panic; the server-time header on every answer;
//! `Retry-After` on every 429; no secret from the input in the answer.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::Value;
use twostep_proto::{ErrorBody, ErrorCode, HEADER_SERVER_TIME};
use twostep_server::http::openapi::{Auth, ENDPOINTS, Endpoint};

use super::secrets::assert_no_secret;
use super::world::{Answer, ORG, World, world};
pub use super::world::{PASSWORD, USER_WITH_CHALLENGE, USER_WITH_SESSION};

/// The stored password hash (PHC string) parser.
pub fn stored_hash(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some((cost, _salt, hash)) = twostep_server::passwords::parse_phc(text) {
        assert_eq!(hash.len(), 32, "a stored hash of the wrong length was accepted");
        // Costs a hostile record could use to exhaust the server are refused; costs
        // Argon2 cannot run (m=0) are left to the verifier, which fails them.
        assert!(
            cost.memory_kib <= 1024 * 1024
                && (1..=64).contains(&cost.iterations)
                && (1..=16).contains(&cost.parallelism),
            "a stored cost that is unsafe to run was accepted: {cost:?}"
        );
    }
}

/// Every endpoint that reads input (a JSON body or a query string), in the order of the
/// server's own endpoint table (the one the OpenAPI document and its router test use), so a
/// new route is fuzzed without anyone listing it here. The first input byte picks one.
pub fn routes() -> Vec<&'static Endpoint> {
    ENDPOINTS.iter().filter(|e| e.request.is_some() || e.query.is_some()).collect()
}

/// The input byte that selects the endpoint `method path` (for the seed corpus).
pub fn route_selector(method: &str, path: &str) -> Option<u8> {
    let index = routes().iter().position(|e| e.method == method && e.path == path)?;
    u8::try_from(index).ok()
}

/// One input: which route, how to send it, and the body.
///
/// Byte 0 picks the route; byte 1's low two bits: 0 or 1 send it normally, 2 without a
/// content type, 3 with a bearer token that does not exist. The rest is the body (or the
/// query string).
pub fn server_routes(data: &[u8]) {
    let [selector, flags, body @ ..] = data else { return };
    let routes = routes();
    let route = routes[usize::from(*selector) % routes.len()];
    let mut world = world();
    let Some(request) = api_request(&world, route, *flags, body) else { return };
    let answer = world.send(request);
    check_answer(route, &answer);
    let what = format!("{} {} answered {}", route.method, route.path, answer.status);
    assert_no_secret(body, &answer.text(), &what, |body| {
        match api_request(&world, route, *flags, body) {
            Some(request) => world.send(request).text(),
            None => String::new(),
        }
    });

    // Spent credentials: refresh before the world stops reaching past authentication.
    let challenge_route = route.path.starts_with("/v1/signin/{id}");
    let spent = match (route.auth, answer.code) {
        (Auth::None, Some(ErrorCode::ChallengeExpired)) => challenge_route,
        (Auth::None, _) => false,
        (_, Some(ErrorCode::Unauthorized | ErrorCode::Forbidden)) => flags & 3 != 3,
        (Auth::Operator, _) => false,
        (_, Some(ErrorCode::AccountLocked | ErrorCode::RateLimited)) => true,
        _ => false,
    };
    world.stale |= spent;
}

fn check_answer(route: &Endpoint, answer: &Answer) {
    let what = format!("{} {} answered {}", route.method, route.path, answer.status);
    let text = answer.text();
    assert!(
        answer.status < 500 || answer.code == Some(ErrorCode::Unavailable),
        "{what}: a server error for a client's input: {text}"
    );
    let server_time = answer.header(HEADER_SERVER_TIME).and_then(|t| t.parse::<u64>().ok());
    assert!(server_time.is_some(), "{what}: no valid {HEADER_SERVER_TIME} header");
    if (200..300).contains(&answer.status) {
        assert!(
            answer.body.is_empty() || serde_json::from_slice::<Value>(&answer.body).is_ok(),
            "{what}: a success that is not JSON: {text}"
        );
    } else {
        let error: ErrorBody = serde_json::from_slice(&answer.body)
            .unwrap_or_else(|e| panic!("{what}: not an error body ({e}): {text}"));
        let code = error.error.code;
        assert_ne!(code, ErrorCode::Unknown, "{what}");
        assert_eq!(code.http_status(), answer.status, "{what}: {code} with another status");
        assert!(!error.error.message.is_empty(), "{what}: an empty message");
        if answer.status == 429 {
            let header = answer.header("retry-after").and_then(|r| r.parse::<u64>().ok());
            assert!(header.is_some_and(|s| s >= 1), "{what}: 429 without Retry-After");
            assert_eq!(header, error.error.retry_after_secs, "{what}: Retry-After disagrees");
        }
    }
}

/// The fuzzed request: `route` with the world's credentials, sent as `flags` say.
fn api_request(world: &World, route: &Endpoint, flags: u8, body: &[u8]) -> Option<Request<Body>> {
    // Path parameters: the world's challenge and org; any other is a name that does
    // not exist (the route must still answer with a typed error).
    let path = route.path.replace("{id}", &world.challenge).replace("{org}", ORG);
    let path = path.replace("{name}", "nobody").replace("{username}", "nobody");
    let method = Method::from_bytes(route.method.to_ascii_uppercase().as_bytes()).ok()?;
    let query = route.request.is_none();
    let mut request = Request::builder().method(method);
    request = if query {
        let query: String = String::from_utf8_lossy(body).chars().filter(|c| *c != '#').collect();
        // Not a URI a client could send: nothing to test.
        request.uri(format!("{path}?{query}").parse::<axum::http::Uri>().ok()?)
    } else {
        request.uri(path)
    };
    if flags & 3 != 2 {
        request = request.header("content-type", "application/json");
    }
    let token = match (route.auth, flags & 3) {
        (Auth::None, _) => None,
        (_, 3) => Some("not-a-token"),
        (Auth::AnySession | Auth::Session, _) => Some(world.session.as_str()),
        (Auth::Operator, _) => Some(world.operator.as_str()),
    };
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let payload = if query { Vec::new() } else { body.to_vec() };
    request.body(Body::from(payload)).ok()
}
