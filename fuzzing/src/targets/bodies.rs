//! Every request body type of the HTTP API, read by the server's own JSON extractor
//! (`JsonBody`: content type, UTF-8, size, unknown fields, typed errors) without the rest
//! of the server — the fast version of [`super::server::server_routes`].
//!
//! The first input byte picks the type, the rest is the body. An accepted body must
//! serialize back to an equal value (the client and the server agree on the wire form)
//! and its `Debug` must not show a password or code; a refused one must be a 400 with a
//! message that quotes no secret.

use axum::extract::FromRequest;
use serde::Serialize;
use serde::de::DeserializeOwned;
use twostep_proto::*;
use twostep_server::error::ApiError;
use twostep_server::http::extract::JsonBody;

use super::secrets::assert_no_secret;

/// One request body type.
type Check = fn(Vec<u8>);

/// The request body types, in the order the first input byte selects them (new ones go at
/// the end, so that the corpus keeps its meaning). A test checks that every body type of
/// the server's endpoint table is here.
pub const TYPES: &[(&str, Check)] = &[
    ("SignInRequest", check::<SignInRequest>),
    ("CodeSubmission", check::<CodeSubmission>),
    ("ChannelSwitch", check::<ChannelSwitch>),
    ("DeviceChallengeRequest", check::<DeviceChallengeRequest>),
    ("DeviceSessionRequest", check::<DeviceSessionRequest>),
    ("PasswordChange", check::<PasswordChange>),
    ("PhoneEnrollment", check::<PhoneEnrollment>),
    ("EmailEnrollment", check::<EmailEnrollment>),
    ("PreferredChannel", check::<PreferredChannel>),
    ("OperatorSignIn", check::<OperatorSignIn>),
    ("CreateOrg", check::<CreateOrg>),
    ("PolicyUpdate", check::<PolicyUpdate>),
    ("CreateUser", check::<CreateUser>),
    ("StepUpRequest", check::<StepUpRequest>),
    ("Bootstrap", check::<Bootstrap>),
];

/// The target.
pub fn request_bodies(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else { return };
    let (_, check) = TYPES[usize::from(selector) % TYPES.len()];
    check(body.to_vec());
}

fn check<T>(body: Vec<u8>)
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let shown = match extract::<T>(&body) {
        Ok(value) => {
            let wire = serde_json::to_vec(&value).expect("an accepted body serializes");
            let again: T = serde_json::from_slice(&wire).expect("a serialized body reads back");
            assert_eq!(again, value, "the wire form does not round-trip");
            format!("{value:?}")
        }
        Err(ApiError { code, message, .. }) => {
            assert_eq!(code, ErrorCode::InvalidRequest, "{message}");
            assert!(!message.is_empty());
            message
        }
    };
    assert_no_secret(&body, &shown, "Debug or an error message", |body| match extract::<T>(body) {
        Ok(value) => format!("{value:?}"),
        Err(e) => e.message,
    });
}

/// What the server's extractor makes of a body.
fn extract<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_vec()))
        .expect("a request from bytes");
    super::block_on(JsonBody::<T>::from_request(request, &())).map(|JsonBody(value)| value)
}
