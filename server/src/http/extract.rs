//! Request extractors that turn every malformed input into a typed JSON error.

use crate::app::App;
use crate::error::ApiError;
use crate::service::operators::{OperatorAuth, authenticate_operator};
use crate::service::sessions::{self, Authed};
use crate::service::signin::Origin;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use twostep_proto::{ErrorCode, MAX_PATH_SEGMENT_LEN, SessionScope};

/// A JSON body: `application/json`, bounded, valid UTF-8, no unknown fields, and arriving
/// within the body timeout.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

/// How long a request body may take to arrive (a request extension set by the router).
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub std::time::Duration);

fn describe(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let msg = e.to_string();
            // Keep serde's field names, never echo values (they may be secrets).
            let msg = &msg[..msg.find(" at line").unwrap_or(msg.len())];
            if msg.starts_with("unknown field") || msg.starts_with("missing field") {
                format!("invalid request: {msg}")
            } else if let Some(expected) = msg.strip_prefix("unknown variant `") {
                // "unknown variant `<the value>`, expected one of ...": drop the value.
                let expected = expected.split_once("`, ").map_or("", |(_, rest)| rest);
                format!("invalid request: unknown variant, {expected}")
                    .trim_end_matches(", ")
                    .to_owned()
            } else {
                format!(
                    "a field has the wrong type or value (line {}, column {})",
                    e.line(),
                    e.column()
                )
            }
        }
        Category::Syntax | Category::Eof => {
            format!("the body is not valid JSON (line {}, column {})", e.line(), e.column())
        }
        Category::Io => "the body could not be read".into(),
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let ct =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
        {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the body must be application/json",
            ));
        }
        let deadline = req.extensions().get::<BodyDeadline>().map(|d| d.0);
        let read = axum::body::Bytes::from_request(req, state);
        let read = match deadline {
            Some(d) => tokio::time::timeout(d, read).await.map_err(|_| {
                ApiError::new(ErrorCode::RequestTimeout, "the request body did not arrive in time")
            })?,
            None => read.await,
        };
        let bytes = read.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the body is larger than {} bytes", twostep_proto::MAX_BODY_BYTES),
                )
            } else {
                ApiError::request("the body could not be read")
            }
        })?;
        if std::str::from_utf8(&bytes).is_err() {
            return Err(ApiError::request("the body is not valid UTF-8"));
        }
        serde_json::from_slice(&bytes).map(JsonBody).map_err(|e| ApiError::request(describe(&e)))
    }
}

/// A path segment, percent-decoded and bounded.
#[derive(Debug)]
pub struct Seg(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Seg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(v) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::request("invalid path parameter"))?;
        if v.len() > MAX_PATH_SEGMENT_LEN {
            return Err(ApiError::request("path parameter too long"));
        }
        Ok(Seg(v))
    }
}

/// Two path segments.
#[derive(Debug)]
pub struct Seg2(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for Seg2 {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path((a, b)) =
            axum::extract::Path::<(String, String)>::from_request_parts(parts, state)
                .await
                .map_err(|_| ApiError::request("invalid path parameter"))?;
        if a.len() > MAX_PATH_SEGMENT_LEN || b.len() > MAX_PATH_SEGMENT_LEN {
            return Err(ApiError::request("path parameter too long"));
        }
        Ok(Seg2(a, b))
    }
}

/// Query parameters into a struct.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|_| ApiError::request("invalid query parameters"))
    }
}

/// Where the request comes from, and when.
impl FromRequestParts<Arc<App>> for Origin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let addr = app.proxies.client_addr(peer, &parts.headers);
        let now_ms = crate::clock::now_ms();
        Ok(Origin { addr, now: now_ms / 1000, now_ms })
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Any user session, including setup-only ones.
#[derive(Debug)]
pub struct AnySession(pub Authed);

impl FromRequestParts<Arc<App>> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "a bearer token is required"))?;
        Ok(AnySession(sessions::authenticate(app, token, crate::clock::now()).await?))
    }
}

/// A full user session.
#[derive(Debug)]
pub struct FullSession(pub Authed);

impl FromRequestParts<Arc<App>> for FullSession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let AnySession(a) = AnySession::from_request_parts(parts, app).await?;
        if a.session.scope != SessionScope::Full {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "this session can only configure two-step authentication",
            ));
        }
        Ok(FullSession(a))
    }
}

/// An operator session: the operator's name.
#[derive(Debug)]
pub struct Operator(pub String);

/// An operator session with its token's key (for sign-out).
#[derive(Debug)]
pub struct OperatorToken(pub OperatorAuth);

impl FromRequestParts<Arc<App>> for OperatorToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or_else(|| {
            ApiError::new(ErrorCode::Unauthorized, "an operator bearer token is required")
        })?;
        Ok(OperatorToken(authenticate_operator(app, token, crate::clock::now()).await?))
    }
}

impl FromRequestParts<Arc<App>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<App>,
    ) -> Result<Self, Self::Rejection> {
        let OperatorToken(auth) = OperatorToken::from_request_parts(parts, app).await?;
        Ok(Operator(auth.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_fields_and_variants_but_never_echo_values() {
        // Found by the `request_bodies` fuzz target: an unknown enum value was quoted back.
        let body = r#"{"username":"alice","password":"p","client":"hunter2-secret"}"#;
        let e = serde_json::from_str::<twostep_proto::SignInRequest>(body).unwrap_err();
        let message = describe(&e);
        assert!(!message.contains("hunter2-secret"), "{message}");
        assert!(message.contains("unknown variant, expected one of `web`"), "{message}");
        let e = serde_json::from_str::<twostep_proto::SignInRequest>(r#"{"username":"a"}"#)
            .unwrap_err();
        assert_eq!(describe(&e), "invalid request: missing field `password`");
    }
}
